using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using AkkaCollector.Ingress;
using AkkaCollector.KafkaMock;
using AkkaCollector.Testing.Faults;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace AkkaCollector.Tests.Architecture;

/// <summary>The service ships no test code: the mock cluster it embeds lives in its own project, the fixtures in Testing.</summary>
public sealed class ProjectBoundaryTests
{
    private static readonly System.Reflection.Assembly Service = typeof(TrackingApi).Assembly;
    private static readonly System.Reflection.Assembly Fixtures = typeof(TcpFaultProxy).Assembly;

    private static readonly ArchUnitNET.Domain.Architecture Loaded =
        new ArchLoader().LoadAssemblies(Service, typeof(MockCluster).Assembly, Fixtures).Build();

    [Fact]
    public void Should_ship_no_test_fixture_in_the_service() =>
        Types().That().ResideInAssembly(Service)
            .Should().NotDependOnAny(Types().That().ResideInAssembly(Fixtures))
            .Check(Loaded);

    [Fact]
    public void Should_not_reference_the_test_fixtures_project_from_the_service() =>
        Assert.DoesNotContain(Service.GetReferencedAssemblies(), reference => reference.Name == Fixtures.GetName().Name);
}
