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
}
