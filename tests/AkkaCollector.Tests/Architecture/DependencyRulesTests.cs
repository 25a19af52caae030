using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using AkkaCollector.Ingress;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace AkkaCollector.Tests.Architecture;

/// <summary>
/// The service's parts depend on each other only along the event's path (docs/architecture.md): Ingress → Lookups,
/// Spooling; Spooling → Publishing; Shutdown drives Ingress, Spooling and Publishing through what they expose; the
/// operator verbs use Shutdown's plan; Ingress and Publishing write into the live events view, which depends on no
/// part; every part may count in Observability, which depends on no part. The composition root (namespace
/// AkkaCollector itself: Program, the settings check, the start-up summary) wires them all.
/// </summary>
public sealed class DependencyRulesTests
{
    private static readonly ArchUnitNET.Domain.Architecture Service =
        new ArchLoader().LoadAssemblies(typeof(TrackingApi).Assembly).Build();

    private static readonly string[] Parts = ["Ingress", "Lookups", "Spooling", "Publishing", "Shutdown", "Observability", "LiveEvents", "Verbs"];

    /// <summary>Each part, and the parts it may use besides itself.</summary>
    public static readonly TheoryData<string, string[]> AllowedArrows = new()
    {
        { "Ingress", ["Lookups", "Spooling", "Observability", "LiveEvents"] },
        { "Lookups", ["Observability"] },
        { "Spooling", ["Publishing", "Observability"] },
        { "Publishing", ["Observability", "LiveEvents"] },
        { "Shutdown", ["Ingress", "Spooling", "Publishing", "Observability"] },
        { "Observability", [] },
        { "LiveEvents", ["Observability"] },
        { "Verbs", ["Shutdown"] },
    };

    [Theory]
    [MemberData(nameof(AllowedArrows))]
    public void Should_depend_only_along_the_events_path(string part, string[] allowed)
    {
        var forbidden = Parts.Where(other => other != part && !allowed.Contains(other)).ToArray();

        Types().That().ResideInNamespaceOrBelow(Namespace(part))
            .Should().NotDependOnAny(Types().That().ResideInNamespaceMatching(AnyOf(forbidden)))
            .Because($"{part} may use only {(allowed.Length == 0 ? "no other part" : string.Join(", ", allowed))}")
            .Check(Service);
    }

    /// <summary>
    /// The parts may use the root's shared helpers (HOCON file paths, validated options, the admin token check, the
    /// encoder and the error body of every JSON answer), nothing else of it.
    /// </summary>
    [Fact]
    public void Should_let_no_part_depend_on_the_composition_root_that_wires_it() =>
        Types().That().ResideInNamespaceMatching(AnyOf(Parts))
            .Should().NotDependOnAny(Types().That().ResideInNamespace("AkkaCollector")
                .And().DoNotHaveName("CollectorHocon").And().DoNotHaveName("ConfigurationValidation")
                .And().DoNotHaveName("AdminToken").And().DoNotHaveName("JsonStatusAnswers").And().DoNotHaveName("ErrorAnswer"))
            .Check(Service);

    private static string Namespace(string part) => $"AkkaCollector.{part}";

    private static string AnyOf(IEnumerable<string> parts) => $"^AkkaCollector\\.({string.Join('|', parts)})(\\..*)?$";
}
