using System.Collections;
using System.Globalization;
using System.Reflection;
using Akka.Configuration;
using Microsoft.Extensions.Options;
using AkkaCollector.Ingress;
using AkkaCollector.LiveEvents;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using AkkaCollector.Shutdown;
using AkkaCollector.Spooling;

namespace AkkaCollector;

/// <summary>
/// Every setting checked before anything is built: each key of each section must name a setting and its value must be
/// of the setting's type (durations and sizes in the units people write, see <see cref="SettingUnits"/>), the listen
/// addresses must parse, the profile and the HOCON must load. Values written with units are rewritten to what the
/// .NET binder reads, so the options classes bind them unchanged. Ranges and cross-setting rules stay on the options
/// classes (validated at start, <see cref="ConfigurationValidation"/>): between the two, no bad setting reaches a
/// stack trace; each ends the start with exit 78 and a line naming it.
/// </summary>
public static class SettingsCheck
{
    /// <summary>The sections that bind to an options class, with the class.</summary>
    public static readonly IReadOnlyList<(string Section, Type Options)> Sections =
    [
        (SpoolOptions.Section, typeof(SpoolOptions)),
        (InstanceOptions.Section, typeof(InstanceOptions)),
        (KafkaOptions.Section, typeof(KafkaOptions)),
        (IngressOptions.SectionName, typeof(IngressOptions)),
        (ShutdownOptions.Section, typeof(ShutdownOptions)),
        (RedisOptions.Section, typeof(RedisOptions)),
        (RateLimitOptions.Section, typeof(RateLimitOptions)),
        (AppRegistryOptions.Section, typeof(AppRegistryOptions)),
        (GeoOptions.Section, typeof(GeoOptions)),
        (LiveEventsOptions.Section, typeof(LiveEventsOptions)),
    ];

    /// <summary>Kestrel's limits: settable in code only, so a value here would silently do nothing.</summary>
    public const string KestrelLimits = "Kestrel:Limits";

    /// <summary>The outcome: failures (empty when every setting is good), the selected profile and the rewritten values.</summary>
    public sealed record Result(IReadOnlyList<string> Failures, string? Profile, IReadOnlyDictionary<string, string?> Normalized);

    /// <summary>
    /// Applies the profile (<see cref="CollectorProfile"/>), checks everything and, when all is well, puts the rewritten
    /// values on top of <paramref name="configuration"/>.
    /// </summary>
    public static Result Apply(ConfigurationManager configuration)
    {
        if (CollectorProfile.Problem(configuration) is { } missing)
            return new Result([missing], null, new Dictionary<string, string?>());
        var profile = CollectorProfile.Apply(configuration);
        var result = Check(configuration, profile);
        if (result.Failures.Count == 0)
            configuration.AddInMemoryCollection(result.Normalized);
        return result;
    }

    /// <summary>Checks <paramref name="configuration"/> without changing it (the start-up path and the tests share it).</summary>
    public static Result Check(IConfiguration configuration, string? profile)
    {
        var failures = new List<string>();
        var normalized = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (section, options) in Sections)
            CheckSection(configuration.GetSection(section), options, failures, normalized);
        failures.AddRange(CollectorLogging.Problems(configuration));
        failures.AddRange(ListenAddresses.Failures(configuration[ListenAddresses.Key]));
        if (configuration.GetSection(KestrelLimits).Exists())
            failures.Add($"{KestrelLimits} is not read from configuration: ASP.NET Core's Kestrel takes only its endpoints and certificates " +
                         "from the Kestrel section, so these limits would be ignored (dotnet/aspnetcore#4765); the collector's own are under Ingress");
        if (failures.Count == 0)
            failures.AddRange(HoconFailures(configuration, normalized, profile));
        return new Result(failures, profile, normalized);
    }

    private static void CheckSection(IConfigurationSection section, Type type, List<string> failures, Dictionary<string, string?> normalized)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.CanWrite)
            .ToDictionary(property => property.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                failures.Add($"{child.Path} is not a setting; {section.Path} has {string.Join(", ", properties.Keys.Order(StringComparer.Ordinal))}");
                continue;
            }
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(propertyType))
                continue;
            if (propertyType.IsClass && propertyType != typeof(string))
            {
                CheckSection(child, propertyType, failures, normalized);
                continue;
            }
            if (child.Value is null)
            {
                failures.Add($"{child.Path} takes one value, not a section");
                continue;
            }
            if (ValueProblem(property, propertyType, child.Value, out var rewritten) is { } problem)
                failures.Add($"{child.Path} = '{child.Value}': {problem}");
            else if (rewritten is not null)
                normalized[child.Path] = rewritten;
        }
    }

    // Null when the value is good; rewritten is set when the binder needs another spelling of it.
    private static string? ValueProblem(PropertyInfo property, Type type, string value, out string? rewritten)
    {
        rewritten = null;
        if (type == typeof(TimeSpan))
        {
            if (!SettingUnits.TryParseDuration(value, out var duration))
                return $"not {SettingUnits.DurationHint}";
            rewritten = duration.ToString("c", CultureInfo.InvariantCulture);
            return null;
        }
        if ((type == typeof(long) || type == typeof(int)) && property.Name.Contains("Bytes", StringComparison.Ordinal))
        {
            if (!SettingUnits.TryParseBytes(value, out var bytes))
                return $"not {SettingUnits.SizeHint}";
            if (type == typeof(int) && bytes > int.MaxValue)
                return $"at most {int.MaxValue} bytes (2 GiB)";
            rewritten = bytes.ToString(CultureInfo.InvariantCulture);
            return null;
        }
        return type switch
        {
            _ when type == typeof(int) => int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? null : "not a whole number",
            _ when type == typeof(long) => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? null : "not a whole number",
            _ when type == typeof(double) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? null : "not a number",
            _ when type == typeof(bool) => bool.TryParse(value, out _) ? null : "not true or false",
            _ => null,
        };
    }

    // The HOCON the actor system will run (profile first, then the per-concern files) must parse, and the parts the
    // collector reads itself must hold: the breaker policy and the shutdown budget.
    private static IEnumerable<string> HoconFailures(IConfiguration configuration, Dictionary<string, string?> normalized, string? profile)
    {
        var failures = new List<string>();
        var profileFile = profile is null ? "" : $", hocon/{profile}.conf";
        var files = $"hocon/lookups.conf{profileFile}";
        try
        {
            if (BreakerProblem(CollectorHocon.LoadProfile(profile).WithFallback(CollectorHocon.Load("akka.conf", "spool.conf", "lookups.conf"))) is { } breaker)
                failures.Add($"{breaker} ({files})");
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            failures.Add($"HOCON does not parse ({files}): {error.Message}");
        }
        try
        {
            var withUnits = new ConfigurationBuilder().AddConfiguration(configuration).AddInMemoryCollection(normalized).Build();
            ShutdownSettings.Load(withUnits, CollectorHocon.LoadProfile(profile));
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            failures.Add($"HOCON collector.shutdown (hocon/shutdown.conf{profileFile}): {error.Message}");
        }
        return failures;
    }

    /// <summary>
    /// The options classes' own validation (ranges, cross-setting rules), run against <paramref name="services"/> before
    /// the host starts: the host would log a failure with its stack trace before the collector could name the setting.
    /// </summary>
    public static IReadOnlyList<string> OptionsFailures(IServiceProvider services)
    {
        var failures = new List<string>();
        foreach (var (_, type) in Sections)
        {
            var options = services.GetRequiredService(typeof(IOptions<>).MakeGenericType(type));
            try
            {
                _ = options.GetType().GetProperty(nameof(IOptions<object>.Value))!.GetValue(options);
            }
            catch (TargetInvocationException wrapped) when (wrapped.InnerException is OptionsValidationException invalid)
            {
                failures.AddRange(invalid.Failures);
            }
        }
        return failures;
    }

    /// <summary>Why the breaker policy in <paramref name="hocon"/> cannot run (a value of the wrong type or range), or null.</summary>
    internal static string? BreakerProblem(Config hocon)
    {
        try
        {
            LookupBreakerSettings.From(hocon);
            return null;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return $"HOCON {LookupBreakerSettings.ConfigPath}: {error.Message}";
        }
    }
}
