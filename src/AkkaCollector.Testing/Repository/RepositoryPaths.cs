namespace AkkaCollector.Testing.Repository;

/// <summary>
/// Finds the repository (the folder holding AkkaCollector.sln, searched upward from the running assembly) and the
/// shared folder beside it (../shared), where MaxMind's test databases live. Tests, the rig and the fixtures all look here.
/// </summary>
public static class RepositoryPaths
{
    /// <summary>File name of MaxMind's test City database in <see cref="GeoIpFolder"/>.</summary>
    public const string GeoIpCityFileName = "GeoIP2-City-Test.mmdb";

    private const string SolutionFileName = "AkkaCollector.sln";
    private static readonly Lazy<string> LocatedRoot = new(LocateRoot);

    /// <summary>Full path of the repository root.</summary>
    /// <exception cref="DirectoryNotFoundException">No AkkaCollector.sln above the running assembly.</exception>
    public static string Root => LocatedRoot.Value;

    /// <summary>Full path of ../shared beside the repository (it may not exist; <see cref="GeoIpFolder"/> checks).</summary>
    public static string SharedFolder => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>Full path of ../shared/geoip, MaxMind's test databases.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder, or the City database in it, is missing.</exception>
    public static string GeoIpFolder
    {
        get
        {
            var folder = Path.Combine(SharedFolder, "geoip");
            return File.Exists(Path.Combine(folder, GeoIpCityFileName))
                ? folder
                : throw new DirectoryNotFoundException(
                    $"MaxMind's test databases are not in {folder} (no {GeoIpCityFileName}): they are expected in ../shared/geoip beside the repository {Root}.");
        }
    }

    /// <summary>Full path of MaxMind's test City database.</summary>
    /// <exception cref="DirectoryNotFoundException">../shared/geoip or the database in it is missing.</exception>
    public static string GeoIpCityDatabase => Path.Combine(GeoIpFolder, GeoIpCityFileName);

    private static string LocateRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
                return directory.FullName;
        }
        throw new DirectoryNotFoundException($"No {SolutionFileName} above {AppContext.BaseDirectory}: cannot find the repository root.");
    }
}
