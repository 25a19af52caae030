using System.Net;

namespace AkkaCollector.Lookups;

/// <summary>Where a client address is, as far as the GeoIP2 database knows.</summary>
public sealed record GeoLocation(
    string? CountryCode,
    string? Region,
    string? City,
    double? Latitude,
    double? Longitude,
    string? TimeZone);

/// <summary>The verdict of every lookup for one request. Rejection is null when the request may go on.</summary>
/// <param name="Rejection">429 (rate limited), 401 (unknown write key) or 403 (blocked app); null = accept.</param>
/// <param name="Unverified">The app registry could not be asked: accept, and mark the events.</param>
/// <param name="Geo">Where the client is; null when geo is off, unknown or broken.</param>
public sealed record LookupVerdict(LookupRejection? Rejection, bool Unverified, GeoLocation? Geo)
{
    public static readonly LookupVerdict Accept = new(null, false, null);
}

/// <summary>Why the lookups refused a request, as the producer will see it.</summary>
public sealed record LookupRejection(int StatusCode, string Error, TimeSpan? RetryAfter = null);

/// <summary>The lookups that run before an event is spooled (rate limit, app registry, geo), each with its own default when its dependency fails.</summary>
public interface IRequestLookups
{
    ValueTask<LookupVerdict> CheckAsync(string writeKey, IPAddress? clientAddress, CancellationToken cancellationToken);
}

/// <summary>No lookups configured: every request is accepted, with no geo.</summary>
public sealed class NoLookups : IRequestLookups
{
    public ValueTask<LookupVerdict> CheckAsync(string writeKey, IPAddress? clientAddress, CancellationToken cancellationToken) =>
        ValueTask.FromResult(LookupVerdict.Accept);
}
