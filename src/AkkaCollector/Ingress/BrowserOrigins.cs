using Microsoft.Extensions.Options;

namespace AkkaCollector.Ingress;

/// <summary>
/// CORS for the tracking API, so that browser SDKs on other origins can send events and read every answer, errors
/// included (a 400, 429 or 503 a script cannot read is retried blind). An allowed origin gets, on every answer:
/// <c>Access-Control-Allow-Origin</c> (its own origin, echoed), <c>Access-Control-Allow-Credentials: true</c> (sendBeacon
/// and <c>credentials: 'include'</c> send cookies, and the browser then refuses a <c>*</c>), <c>Vary: Origin</c> and
/// <c>Access-Control-Expose-Headers: Retry-After</c>. A preflight also gets the methods, the request headers the SDKs
/// send and <c>Access-Control-Max-Age</c>. An origin not in <see cref="IngressOptions.AllowedOrigins"/> gets no CORS
/// header at all and its request is refused 403 <c>origin_not_allowed</c>, nothing stored. A request without an Origin
/// header (a server, a phone, an <c>img</c> pixel) is not looked at here: the check costs a known-header read.
/// </summary>
public sealed class BrowserOrigins
{
    /// <summary>
    /// The request headers browser SDKs send, read from their sources: analytics.js (Content-Type text/plain,
    /// Authorization Basic with the write key, X-Retry-Count on retries); RudderStack's v3 (Content-Type
    /// application/json, Authorization, AnonymousId, SentAt, and on retries Rsa-Retry-Attempt, Rsa-Retry-Reason,
    /// Rsa-Since-First-Attempt, Rsa-Since-Last-Attempt, Rsa-Recovered). Content-Encoding lets a page send gzip as the
    /// mobile SDKs do.
    /// </summary>
    public const string AllowedHeaders =
        "Content-Type, Authorization, AnonymousId, X-Retry-Count, SentAt, Rsa-Retry-Attempt, Rsa-Retry-Reason, " +
        "Rsa-Since-First-Attempt, Rsa-Since-Last-Attempt, Rsa-Recovered, Content-Encoding";

    /// <summary>Headers a script may read on an answer: Retry-After tells an SDK when to come back after a 429 or 503.</summary>
    public const string ExposedHeaders = "Retry-After";

    /// <summary>How long a browser may reuse a preflight's answer: two hours, the most Chromium honours.</summary>
    public const int MaxAgeSeconds = 7200;

    private readonly bool _anyOrigin;
    private readonly HashSet<string> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Scheme, string Suffix)> _wildcards = [];

    public BrowserOrigins(IOptions<IngressOptions> options)
    {
        var entries = options.Value.AllowedOrigins;
        _anyOrigin = entries.Count == 0;
        foreach (var entry in entries)
        {
            if (!TryParseEntry(entry, out var parsed))
                throw new OptionsValidationException(IngressOptions.SectionName, typeof(IngressOptions), [InvalidEntry(entries.IndexOf(entry), entry)]);
            if (parsed == "*")
                _anyOrigin = true;
            else if (parsed.Contains("://*.", StringComparison.Ordinal))
                _wildcards.Add((parsed[..(parsed.IndexOf("://", StringComparison.Ordinal) + 3)], parsed[(parsed.IndexOf('*') + 1)..]));
            else
                _exact.Add(parsed);
        }
    }

    /// <summary>True when a page of <paramref name="origin"/> (an Origin header's value) may send events.</summary>
    public bool Allows(string origin)
    {
        if (_anyOrigin || _exact.Contains(origin))
            return true;
        foreach (var (scheme, suffix) in _wildcards)
        {
            // https://*.example.com: any host under example.com, same scheme and port, never example.com itself.
            if (origin.Length > scheme.Length + suffix.Length
                && origin.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
                && origin.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && origin.AsSpan(scheme.Length, origin.Length - scheme.Length - suffix.Length).IndexOfAny(":/") < 0)
                return true;
        }
        return false;
    }

    /// <summary>The headers every answer to an allowed origin carries.</summary>
    public static void AddAnswerHeaders(HttpResponse response, string origin)
    {
        var headers = response.Headers;
        headers.AccessControlAllowOrigin = origin;
        headers.AccessControlAllowCredentials = "true";
        headers.AccessControlExposeHeaders = ExposedHeaders;
        headers.Vary = "Origin";
    }

    /// <summary>The headers a successful preflight carries besides <see cref="AddAnswerHeaders"/>.</summary>
    public static void AddPreflightHeaders(HttpResponse response, string methods)
    {
        var headers = response.Headers;
        headers.AccessControlAllowMethods = methods;
        headers.AccessControlAllowHeaders = AllowedHeaders;
        headers.AccessControlMaxAge = MaxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Reads one <c>Ingress:AllowedOrigins</c> entry: <c>*</c>, or <c>scheme://host[:port]</c> with scheme http or
    /// https and no path, query or trailing slash (an Origin header has none), where the host may start with <c>*.</c>.
    /// <paramref name="normalized"/> is lower case without a default port, as browsers send it.
    /// </summary>
    public static bool TryParseEntry(string? entry, out string normalized)
    {
        normalized = "";
        if (string.IsNullOrWhiteSpace(entry))
            return false;
        entry = entry.Trim();
        if (entry == "*")
        {
            normalized = entry;
            return true;
        }
        var schemeEnd = entry.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0 || entry.IndexOfAny(['/', '?', '#', '@'], schemeEnd + 3) >= 0)
            return false;
        var wildcard = entry.AsSpan(schemeEnd + 3).StartsWith("*.");
        var parseable = wildcard ? entry.Remove(schemeEnd + 3, 1).Insert(schemeEnd + 3, "wildcard") : entry;
        if (!Uri.TryCreate(parseable, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Host.Length == 0 || uri.Host.Contains('*'))
            return false;
        var host = wildcard ? "*" + uri.Host["wildcard".Length..] : uri.Host;
        normalized = uri.IsDefaultPort ? $"{uri.Scheme}://{host}" : $"{uri.Scheme}://{host}:{uri.Port}";
        normalized = normalized.ToLowerInvariant();
        return true;
    }

    /// <summary>The start-up failure for a bad entry, naming the setting as an operator writes it.</summary>
    public static string InvalidEntry(int index, string? entry) =>
        $"Ingress:AllowedOrigins:{index} = '{entry}' is not an origin: write scheme://host[:port] (http or https, no path or trailing slash; " +
        "the host may start with *. for its subdomains), or * for any origin.";
}
