using Microsoft.Extensions.Configuration.Json;

namespace AkkaCollector;

/// <summary>
/// An operator profile, selected by the setting <c>Collector:Profile</c> (e.g. env <c>Collector__Profile=production</c>):
/// profiles/PROFILE.json joins the .NET configuration and hocon/PROFILE.conf the Akka configuration. Without it the
/// collector runs on the defaults in the options classes and hocon/, which suit one collector on a small VM.
/// A setting and not ASPNETCORE_ENVIRONMENT: ASP.NET Core runs as "Production" when no environment is set, and
/// a bare local start must not quietly pick up production sizing.
/// </summary>
public static class CollectorProfile
{
    public const string Setting = "Collector:Profile";

    /// <summary>The profiles/ folder beside the binary.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "profiles");

    /// <summary>Why the selected profile cannot be loaded (its file is missing), or null when it can or none is selected.</summary>
    public static string? Problem(IConfiguration configuration)
    {
        var profile = configuration[Setting];
        if (string.IsNullOrEmpty(profile) || File.Exists(PathOf(profile)))
            return null;
        var known = Directory.Exists(Folder) ? string.Join(", ", Directory.GetFiles(Folder, "*.json").Select(Path.GetFileNameWithoutExtension).Order()) : "none";
        return $"{Setting} = '{profile}': there is no {PathOf(profile)} (profiles: {known})";
    }

    private static string PathOf(string profile) => Path.Combine(Folder, $"{profile}.json");

    /// <summary>
    /// Adds profiles/PROFILE.json right after appsettings*.json, so environment variables and the command line still
    /// override the profile; returns the profile's name (null when none is selected).
    /// </summary>
    public static string? Apply(ConfigurationManager configuration)
    {
        var profile = configuration[Setting];
        if (string.IsNullOrEmpty(profile))
            return null;

        var path = PathOf(profile);
        IConfigurationBuilder builder = configuration;
        var lastJsonFile = builder.Sources.ToList().FindLastIndex(source => source is JsonConfigurationSource);
        var profileSource = new JsonConfigurationSource { Path = path, Optional = false, ReloadOnChange = false };
        profileSource.ResolveFileProvider();
        builder.Sources.Insert(lastJsonFile + 1, profileSource);
        return profile;
    }
}
