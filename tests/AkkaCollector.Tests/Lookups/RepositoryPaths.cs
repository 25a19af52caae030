namespace AkkaCollector.Tests.Lookups;

/// <summary>Finds files the tests need relative to the repository root (the folder holding AkkaCollector.sln).</summary>
internal static class RepositoryPaths
{
    /// <summary>MaxMind's test databases, in ../shared/geoip beside the repository.</summary>
    public static string GeoIpFolder()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "AkkaCollector.sln")))
            root = root.Parent;
        if (root is null)
            throw new InvalidOperationException($"No AkkaCollector.sln above {AppContext.BaseDirectory}: cannot find the repository root.");
        var folder = Path.GetFullPath(Path.Combine(root.FullName, "..", "shared", "geoip"));
        if (!File.Exists(Path.Combine(folder, "GeoIP2-City-Test.mmdb")))
            throw new InvalidOperationException($"MaxMind test databases not found in {folder} (expected ../shared/geoip beside the repository).");
        return folder;
    }
}
