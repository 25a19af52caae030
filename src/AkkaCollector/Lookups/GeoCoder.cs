using System.Diagnostics;
using System.Net;
using AkkaCollector.Observability;
using MaxMind.Db;
using MaxMind.GeoIP2;
using MaxMind.GeoIP2.Responses;
using Microsoft.Extensions.Logging;

namespace AkkaCollector.Lookups;

/// <summary>
/// Client address to place, from a local MaxMind City database: no network hop, so no breaker. An address the database
/// does not know is simply null. A missing, unreadable or corrupt database skips geo (counted), never fails a request.
/// A changed file is loaded without a restart; a bad new file keeps the last good database.
/// </summary>
public sealed class GeoCoder : IDisposable
{
    public const string LookupName = "geo";

    private readonly string _path;
    private readonly TimeSpan _checkInterval;
    private readonly ILogger _log;
    private readonly Lock _reloading = new();
    private volatile DatabaseReader? _reader;
    private FileStamp? _lastSeen;
    private long _nextCheck;

    public GeoCoder(GeoOptions options, ILogger<GeoCoder> log)
    {
        _path = options.DatabasePath ?? throw new ArgumentException("Geo:DatabasePath is not set.", nameof(options));
        _checkInterval = options.ReloadCheckInterval;
        _log = log;
        lock (_reloading)
            LoadIfChanged();
    }

    /// <summary>Where <paramref name="address"/> is, or null (unknown address, no usable database).</summary>
    public GeoLocation? Locate(IPAddress? address)
    {
        if (address is null)
            return null;
        ReloadWhenDue();
        var started = Stopwatch.GetTimestamp();
        var outcome = LookupOutcome.Ok;
        GeoLocation? location = null;
        var reader = _reader;
        try
        {
            if (reader is null)
                outcome = LookupOutcome.Failed;
            // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d, which the database files under IPv4.
            else if (reader.TryCity(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, out var city) && city is not null)
                location = ToLocation(city);
        }
        catch (Exception e)
        {
            _log.LogDebug(e, "Geo lookup of {Address} failed", address);
            outcome = LookupOutcome.Failed;
        }
        CollectorMetrics.LookupCalls.WithLabels(LookupName, LookupBreaker.Label(outcome)).Inc();
        CollectorMetrics.LookupSeconds.WithLabels(LookupName).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (outcome != LookupOutcome.Ok)
            CollectorMetrics.LookupDefaultsUsed.WithLabels(LookupName, "skipped").Inc();
        return location;
    }

    public void Dispose() => _reader?.Dispose();

    private static GeoLocation ToLocation(CityResponse city)
    {
        var region = city.MostSpecificSubdivision;
        return new GeoLocation(
            city.Country.IsoCode,
            region.Name ?? region.IsoCode,
            city.City.Name,
            city.Location.Latitude,
            city.Location.Longitude,
            city.Location.TimeZone);
    }

    private void ReloadWhenDue()
    {
        var now = Environment.TickCount64;
        if (now < Interlocked.Read(ref _nextCheck))
            return;
        // One request checks the file; the others go on with the database they have.
        if (!_reloading.TryEnter())
            return;
        try
        {
            Interlocked.Exchange(ref _nextCheck, now + (long)_checkInterval.TotalMilliseconds);
            LoadIfChanged();
        }
        finally
        {
            _reloading.Exit();
        }
    }

    private void LoadIfChanged()
    {
        FileStamp stamp;
        try
        {
            var file = new FileInfo(_path);
            stamp = file.Exists ? new FileStamp(file.LastWriteTimeUtc, file.Length) : FileStamp.Missing;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stamp = FileStamp.Missing;
        }
        if (stamp == _lastSeen)
            return;
        _lastSeen = stamp;
        try
        {
            // Memory mode reads the whole file once: the file can then be replaced under us without corrupting lookups.
            var reader = new DatabaseReader(_path, FileAccessMode.Memory);
            var previous = _reader;
            _reader = reader;
            previous?.Dispose();
            _log.LogInformation("Geo database {Path} loaded ({Type}, built {Built:u})",
                _path, reader.Metadata.DatabaseType, reader.Metadata.BuildDate);
        }
        catch (Exception e)
        {
            _log.LogWarning("Geo database {Path} could not be loaded ({Error}); {Fallback}", _path, e.Message,
                _reader is null ? "geo is skipped until a readable file appears" : "keeping the last good database");
        }
    }

    private readonly record struct FileStamp(DateTime LastWriteUtc, long Length)
    {
        public static readonly FileStamp Missing = new(DateTime.MinValue, -1);
    }
}
