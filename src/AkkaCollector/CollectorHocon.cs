using Akka.Configuration;

namespace AkkaCollector;

/// <summary>Where the commented HOCON files (hocon/ in the repository) sit beside the binary; each concern's hosting extension loads its own.</summary>
public static class CollectorHocon
{
    /// <summary>The path of one HOCON file; fails loudly when the file is missing rather than running on defaults.</summary>
    public static string PathOf(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "hocon", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"HOCON file {file} is missing beside the binary (expected {path})", path);
    }

    /// <summary>Parses the named files into one config; where two set the same key, the later file wins.</summary>
    public static Config Load(params string[] files) =>
        files.Aggregate(Config.Empty, (config, file) => ConfigurationFactory.ParseString(File.ReadAllText(PathOf(file))).WithFallback(config));

    /// <summary>
    /// The profile's HOCON (hocon/PROFILE.conf), or empty without a profile. The host adds it in front of every
    /// other file, so a profile value wins over the per-concern defaults whichever order those are loaded in.
    /// </summary>
    public static Config LoadProfile(string? profile) =>
        string.IsNullOrEmpty(profile) ? Config.Empty : Load($"{profile}.conf");
}
