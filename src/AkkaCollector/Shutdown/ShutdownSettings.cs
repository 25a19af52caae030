using System.Globalization;
using Akka.Configuration;
using Microsoft.Extensions.Configuration;

namespace AkkaCollector.Shutdown;

/// <summary>The .NET configuration section <c>Shutdown</c>: overrides of the HOCON budget, and the admin token.</summary>
public sealed class ShutdownOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Shutdown";

    /// <summary>Overrides <c>collector.shutdown.kill-window</c> (e.g. 00:00:06 for a pm2 kill_timeout of 6000).</summary>
    public TimeSpan? KillWindow { get; set; }

    /// <summary>Overrides <c>collector.shutdown.safety-margin</c>.</summary>
    public TimeSpan? SafetyMargin { get; set; }

    /// <summary>Overrides <c>collector.shutdown.drain-delay</c>.</summary>
    public TimeSpan? DrainDelay { get; set; }

    /// <summary>Bearer token for <c>POST /admin/shutdown</c>; without one the endpoint does not exist.</summary>
    public string? AdminToken { get; set; }

    /// <summary>Binds the section; an absent section means no overrides and no admin endpoint.</summary>
    public static ShutdownOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<ShutdownOptions>() ?? new ShutdownOptions();
}

/// <summary>
/// The shutdown HOCON the actor system and the plan both read: hocon/shutdown.conf, the profile's HOCON over it (its
/// kill window and phase budget), and the .NET overrides on top. Akka's defaults are deliberately not folded in, so
/// prepending this to the actor system's HOCON changes only what those files name.
/// </summary>
public sealed record ShutdownSettings(Config Hocon, ShutdownPlan Plan, ShutdownOptions Options)
{
    /// <summary>Where the build puts hocon/shutdown.conf: beside the binary.</summary>
    public static string DefaultHoconPath => Path.Combine(AppContext.BaseDirectory, "hocon", "shutdown.conf");

    /// <summary>
    /// Reads hocon/shutdown.conf (or <paramref name="hoconPath"/>) under <paramref name="profileHocon"/>, applies the
    /// overrides, computes the plan. Without the profile's HOCON, a profile that sets its own budget (hocon/production.conf:
    /// a 30 s kill window, 27 s of phases) was checked against the shipped 10 s window and its start refused.
    /// </summary>
    public static ShutdownSettings Load(IConfiguration configuration, Config? profileHocon = null, string? hoconPath = null)
    {
        var options = ShutdownOptions.From(configuration);
        var file = ConfigurationFactory.ParseString(File.ReadAllText(hoconPath ?? DefaultHoconPath));
        var hocon = Overrides(options).WithFallback(profileHocon ?? Config.Empty).WithFallback(file);
        return new ShutdownSettings(hocon, ShutdownPlan.FromConfig(hocon), options);
    }

    private static Config Overrides(ShutdownOptions options)
    {
        var lines = new List<string>();
        AddOverride(lines, "kill-window", options.KillWindow);
        AddOverride(lines, "safety-margin", options.SafetyMargin);
        AddOverride(lines, "drain-delay", options.DrainDelay);
        return ConfigurationFactory.ParseString(string.Join('\n', lines));
    }

    private static void AddOverride(List<string> lines, string key, TimeSpan? value)
    {
        if (value is { } span)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"collector.shutdown.{key} = {(long)span.TotalMilliseconds}ms"));
    }
}
