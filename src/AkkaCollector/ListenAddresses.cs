using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace AkkaCollector;

/// <summary>
/// Checks the <c>urls</c> setting before Kestrel sees it. Kestrel binds every interface for a host it cannot read as an
/// address (<c>http://127.0.0.1:notaport</c> listened on <c>http://[::]:80</c>, and so does <c>http://myhost:8080</c>):
/// a typo must never open the collector wider than asked. Allowed hosts: an IP address, <c>localhost</c>, or
/// <c>*</c> / <c>+</c> for every interface, written on purpose.
/// </summary>
public static partial class ListenAddresses
{
    /// <summary>The configuration key (<c>--urls</c>, env <c>ASPNETCORE_URLS</c>).</summary>
    public const string Key = "urls";

    /// <summary>The address used when <c>urls</c> is not set: loopback only.</summary>
    public const string Default = "http://127.0.0.1:8080";

    /// <summary>One failure per address that does not parse or names a host Kestrel would widen to every interface.</summary>
    public static IEnumerable<string> Failures(string? urls)
    {
        if (string.IsNullOrWhiteSpace(urls))
            yield break;
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Problem(url) is { } problem)
                yield return $"{Key} = '{url}': {problem}";
        }
    }

    private static string? Problem(string url)
    {
        var match = Address().Match(url);
        if (!match.Success)
            return "not a listen address; write http://HOST:PORT, e.g. http://127.0.0.1:8080";
        var host = match.Groups["host"].Value;
        var hostIsAllowed = host is "*" or "+" || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                            || IPAddress.TryParse(host.Trim('[', ']'), out _);
        if (!hostIsAllowed)
            return $"the host '{host}' is not an IP address: Kestrel would listen on every interface; write an IP address, localhost, or * for every interface";
        if (match.Groups["port"].Success
            && !(int.TryParse(match.Groups["port"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535))
            return "the port must be a number from 0 to 65535";
        return null;
    }

    [GeneratedRegex(@"^https?://(?<host>\[[0-9a-fA-F:.%\w]+\]|[^:/\[\]]+)(:(?<port>[^/]*))?/?$", RegexOptions.IgnoreCase)]
    private static partial Regex Address();
}
