using Akka.Configuration;

namespace AkkaCollector;

/// <summary>Loads the commented HOCON files shipped in hocon/ (one per concern) in a fixed order.</summary>
public static class CollectorHocon
{
    /// <summary>The files, in load order; a later file may refine an earlier one.</summary>
    public static readonly string[] Files = ["akka.conf", "spool.conf"];

    /// <summary>The folder holding the files: hocon/ beside the binary.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "hocon");

    public static Config Load()
    {
        var config = Config.Empty;
        foreach (var file in Files)
        {
            // Earlier files win on conflicts only where a later file does not set the key: later files refine.
            config = Parse(file).WithFallback(config);
        }
        return config;
    }

    /// <summary>
    /// The profile's HOCON (hocon/PROFILE.conf), or empty without a profile. The host adds it in front of every
    /// other file, so a profile value wins over the per-concern defaults whichever order those are loaded in.
    /// </summary>
    public static Config LoadProfile(string? profile) => string.IsNullOrEmpty(profile) ? Config.Empty : Parse($"{profile}.conf");

    private static Config Parse(string file)
    {
        var path = Path.Combine(Folder, file);
        if (!File.Exists(path))
            throw new FileNotFoundException($"HOCON file {file} is missing beside the binary (expected {path})", path);
        return ConfigurationFactory.ParseString(File.ReadAllText(path));
    }
}
