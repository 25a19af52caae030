using System.Net;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Testing.Repository;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaCollector.Tests.Lookups;

public sealed class GeoCoderTests : IDisposable
{
    private static readonly IPAddress London = IPAddress.Parse("81.2.69.142");
    private readonly string _geoIp = RepositoryPaths.GeoIpFolder;
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"geo-{Guid.NewGuid():N}");

    public GeoCoderTests() => Directory.CreateDirectory(_scratch);

    [Fact]
    public void Should_place_81_2_69_142_in_London_GB()
    {
        using var geo = Open(RepositoryPaths.GeoIpCityDatabase);

        var location = geo.Locate(London);

        Assert.NotNull(location);
        Assert.Equal("GB", location.CountryCode);
        Assert.Equal("London", location.City);
        Assert.Equal("Europe/London", location.TimeZone);
        Assert.NotNull(location.Latitude);
        Assert.NotNull(location.Longitude);
    }

    [Fact]
    public void Should_place_216_160_83_56_in_Milton_US_even_as_an_IPv4_mapped_address()
    {
        using var geo = Open(RepositoryPaths.GeoIpCityDatabase);

        var location = geo.Locate(IPAddress.Parse("216.160.83.56").MapToIPv6());

        Assert.Equal(("US", "Milton", "Washington"), (location?.CountryCode, location?.City, location?.Region));
    }

    [Fact]
    public void Should_answer_null_without_counting_a_failure_for_an_address_the_database_does_not_know()
    {
        using var geo = Open(RepositoryPaths.GeoIpCityDatabase);
        var failedBefore = Counted("failed");

        Assert.Null(geo.Locate(IPAddress.Parse("1.1.1.1")));
        Assert.Equal(failedBefore, Counted("failed"));
    }

    [Fact]
    public void Should_load_the_new_database_when_the_file_changes_on_disk()
    {
        var path = Path.Combine(_scratch, "city.mmdb");
        File.Copy(Path.Combine(_geoIp, "GeoLite2-ASN-Test.mmdb"), path);
        using var geo = Open(path);
        Assert.Null(geo.Locate(London));

        Replace(path, RepositoryPaths.GeoIpCityDatabase);

        Assert.Equal("London", geo.Locate(London)?.City);
    }

    [Fact]
    public void Should_skip_geo_and_count_it_when_the_database_is_corrupt()
    {
        var path = Path.Combine(_scratch, "corrupt.mmdb");
        File.WriteAllBytes(path, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray());
        var failedBefore = Counted("failed");
        var skippedBefore = CollectorMetrics.LookupDefaultsUsed.WithLabels(GeoCoder.LookupName, "skipped").Value;
        using var geo = Open(path);

        Assert.Null(geo.Locate(London));

        Assert.Equal(1, Counted("failed") - failedBefore);
        Assert.Equal(1, CollectorMetrics.LookupDefaultsUsed.WithLabels(GeoCoder.LookupName, "skipped").Value - skippedBefore);
    }

    [Fact]
    public void Should_keep_the_last_good_database_when_the_new_file_is_corrupt()
    {
        var path = Path.Combine(_scratch, "city.mmdb");
        File.Copy(RepositoryPaths.GeoIpCityDatabase, path);
        using var geo = Open(path);

        File.WriteAllBytes(path, new byte[1234]);

        Assert.Equal("London", geo.Locate(London)?.City);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static GeoCoder Open(string path) =>
        new(new GeoOptions { DatabasePath = path, ReloadCheckInterval = TimeSpan.Zero }, NullLogger<GeoCoder>.Instance);

    /// <summary>Swaps the content the way a database updater does: write beside it, then rename over it.</summary>
    private void Replace(string path, string source)
    {
        var staged = Path.Combine(_scratch, "staged.mmdb");
        File.Copy(source, staged, overwrite: true);
        File.Move(staged, path, overwrite: true);
    }

    private static double Counted(string outcome) =>
        CollectorMetrics.LookupCalls.WithLabels(GeoCoder.LookupName, outcome).Value;
}
