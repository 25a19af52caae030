using Microsoft.Extensions.Options;

namespace AkkaCollector.Ingress;

/// <summary>Limits and trust settings of the tracking API, bound from the configuration section "Ingress".</summary>
public sealed class IngressOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Ingress";

    /// <summary>Largest single event, in bytes of its JSON as sent (Segment's own limit is 32 KB).</summary>
    public int MaxEventBytes { get; set; } = 32 * 1024;

    /// <summary>Largest request body, in bytes after gzip inflation (Segment's batch limit is 500 KB).</summary>
    public int MaxRequestBytes { get; set; } = 500 * 1024;

    /// <summary>
    /// Most events in one batch. Segment bounds a batch by bytes only; a count bound keeps one request from
    /// becoming thousands of tiny journal records. 1000 still lets every event average 500 bytes inside MaxRequestBytes.
    /// </summary>
    public int MaxBatchEvents { get; set; } = 1000;

    /// <summary>Addresses or CIDR blocks of load balancers whose X-Forwarded-For is believed. Empty: XFF is ignored.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Seconds a producer is told to wait (Retry-After) when the spool cannot take its events.</summary>
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>
    /// Web pages whose browser SDKs may send events, as origins (<c>https://www.example.com</c>, <c>http://localhost:3000</c>,
    /// <c>https://*.example.com</c> for every subdomain) or <c>*</c> for any. Empty (the default): any origin. A request
    /// whose Origin header is not listed is refused 403 <c>origin_not_allowed</c> without CORS headers and nothing of it
    /// is stored; requests without an Origin header (servers, phones, pixels) are not concerned.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// messageIds each spooler remembers, to store a retried request once (an SDK that never saw its 200 sends the same
    /// messageIds again): a copy of an event stored among the last this many is dropped, counted <c>duplicate_dropped</c>,
    /// and the request still answered 200. 26-32 bytes of native memory per id (docs/deploy.md); 0 turns it off.
    /// </summary>
    public int DedupWindow { get; set; } = 100_000;

    /// <summary>Upper bound of <see cref="DedupWindow"/>: 10 million ids are 294 MB per spooler.</summary>
    public const int MaxDedupWindow = 10_000_000;
}

/// <summary>Refuses to start the collector with ingress limits that would reject everything or trust a typo.</summary>
internal sealed class IngressOptionsValidator : IValidateOptions<IngressOptions>
{
    public ValidateOptionsResult Validate(string? name, IngressOptions options)
    {
        var failures = new List<string>();
        if (options.MaxEventBytes <= 0)
            failures.Add("Ingress:MaxEventBytes must be positive.");
        if (options.MaxRequestBytes < options.MaxEventBytes)
            failures.Add("Ingress:MaxRequestBytes must be at least Ingress:MaxEventBytes, or no single event could be sent.");
        if (options.MaxBatchEvents <= 0)
            failures.Add("Ingress:MaxBatchEvents must be positive.");
        if (options.DedupWindow is < 0 or > IngressOptions.MaxDedupWindow)
            failures.Add($"Ingress:DedupWindow must be between 0 (off) and {IngressOptions.MaxDedupWindow} messageIds per spooler (was {options.DedupWindow}).");
        if (options.RetryAfterSeconds <= 0)
            failures.Add("Ingress:RetryAfterSeconds must be positive.");
        failures.AddRange(options.TrustedProxies
            .Where(entry => !ClientAddressResolver.TryParseNetwork(entry, out _))
            .Select(ClientAddressResolver.InvalidProxyEntry));
        failures.AddRange(options.AllowedOrigins
            .Select((entry, index) => (entry, index))
            .Where(item => !BrowserOrigins.TryParseEntry(item.entry, out _))
            .Select(item => BrowserOrigins.InvalidEntry(item.index, item.entry)));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
