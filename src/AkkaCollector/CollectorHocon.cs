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
            var path = Path.Combine(Folder, file);
            if (!File.Exists(path))
                throw new FileNotFoundException($"HOCON file {file} is missing beside the binary (expected {path})", path);
            // Earlier files win on conflicts only where a later file does not set the key: later files refine.
            config = ConfigurationFactory.ParseString(File.ReadAllText(path)).WithFallback(config);
        }
        return config;
    }
}
