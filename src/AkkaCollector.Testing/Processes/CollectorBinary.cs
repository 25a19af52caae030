using AkkaCollector.Testing.Repository;

namespace AkkaCollector.Testing.Processes;

/// <summary>Finds the built collector (AkkaCollector.dll) to run as <c>dotnet AkkaCollector.dll ...</c>.</summary>
public static class CollectorBinary
{
    private const string DllName = "AkkaCollector.dll";
    private const string RuntimeConfigName = "AkkaCollector.runtimeconfig.json";
    private static readonly Lazy<string> Located = new(Locate);

    /// <summary>Full path of AkkaCollector.dll: beside the running assembly when a project reference copied it there, else src/AkkaCollector/bin/CONFIGURATION/net10.0/.</summary>
    /// <exception cref="FileNotFoundException">The collector has not been built.</exception>
    public static string Path => Located.Value;

    private static string Locate()
    {
        var baseDirectory = AppContext.BaseDirectory;
        if (IsRunnable(baseDirectory))
            return System.IO.Path.Combine(baseDirectory, DllName);

        // Run from elsewhere (e.g. the rig): find the repository root, prefer this build's configuration.
        var configuration = new DirectoryInfo(baseDirectory).Parent?.Name ?? "Debug";
        var root = RepositoryPaths.Root;
        var candidates = new[] { configuration, "Debug", "Release" }.Distinct()
            .Select(config => System.IO.Path.Combine(root, "src", "AkkaCollector", "bin", config, "net10.0"));
        return candidates.Where(IsRunnable).Select(directory => System.IO.Path.Combine(directory, DllName)).FirstOrDefault()
               ?? throw new FileNotFoundException(
                   $"No runnable {DllName} (with {RuntimeConfigName}) beside {baseDirectory} nor under {root}/src/AkkaCollector/bin; build src/AkkaCollector first.");
    }

    private static bool IsRunnable(string directory) =>
        File.Exists(System.IO.Path.Combine(directory, DllName)) && File.Exists(System.IO.Path.Combine(directory, RuntimeConfigName));
}
