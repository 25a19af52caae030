using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace AkkaCollector;

/// <summary>
/// Checks the <c>urls</c> setting before Kestrel sees it. Kestrel binds every interface for a host it cannot read as an
/// address (<c>http://127.0.0.1:notaport</c> listened on <c>http://[::]:80</c>, and so does <c>http://myhost:8080</c>):
/// a typo must never open the collector wider than asked. Allowed hosts: an IP address, <c>localhost</c>, or
/// <c>*</c> / <c>+</c> for every interface, written on purpose. Then, before anything starts, that each address can be
/// bound at all (<see cref="FirstUnavailable"/>).
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
        foreach (var url in Each(urls))
        {
            if (Problem(url) is { } problem)
                yield return $"{Key} = '{url}': {problem}";
        }
    }

    /// <summary>
    /// Exit code of a collector whose port another process listens on (sysexits' EX_TEMPFAIL), not 78: restarting can
    /// fix it, as when the previous collector is still finishing its shutdown, so a process manager should try again.
    /// </summary>
    public const int PortTakenExitCode = 75;

    /// <summary>Why the collector cannot listen where <c>urls</c> says, and the exit code that says so.</summary>
    public sealed record Unavailable(string Reason, int ExitCode);

    /// <summary>
    /// Binds each address of <paramref name="urls"/> (already checked by <see cref="Failures"/>) as Kestrel will, and
    /// lets it go at once, before the actor system claims the spools: a taken port, an address this host does not have,
    /// or two addresses of <c>urls</c> that claim the same port then end the start with one line instead of Kestrel's
    /// stack trace, a shutdown and an abort.
    /// </summary>
    /// <remarks>
    /// The sockets are bound, never listening: a listening one would accept a connection from whoever probes the port
    /// (a load balancer's health check, a test waiting for the collector) and reset it when let go, and the prober would
    /// take that for a collector that broke rather than one not yet started. Bound sockets cannot show two addresses of
    /// <c>urls</c> claiming one port (Linux lets two sockets that set SO_REUSEADDR, as .NET does, bind one port while
    /// neither listens), so that is read from the addresses themselves.
    /// </remarks>
    public static Unavailable? FirstUnavailable(string urls)
    {
        var claimed = new List<IPEndPoint>();
        foreach (var url in Each(urls))
        foreach (var (endpoint, optional) in EndpointsOf(url))
        {
            if (claimed.Any(earlier => ClaimOnePort(earlier, endpoint)))
                return new($"{Key} = '{url}': port {endpoint.Port} is already claimed by an earlier address of {Key}; list each address once",
                    ConfigurationValidation.InvalidConfigurationExitCode);
            try
            {
                BindAndRelease(endpoint);
                claimed.Add(endpoint);
            }
            catch (SocketException error) when (optional && error.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported)
            {
            }
            catch (SocketException error) when (error.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                return new($"{Key} = '{url}': address already in use: another process listens on port {endpoint.Port}; stop it, or set {Key} to another port",
                    PortTakenExitCode);
            }
            catch (SocketException error) when (error.SocketErrorCode == SocketError.AddressNotAvailable)
            {
                return new($"{Key} = '{url}': this host has no address {endpoint.Address}; write one of its own addresses, or * for every interface",
                    ConfigurationValidation.InvalidConfigurationExitCode);
            }
        }
        return null;
    }

    /// <summary>Refuses the start: the reason on one line, no stack trace.</summary>
    public static int Refuse(Unavailable unavailable, TextWriter error)
    {
        if (unavailable.ExitCode == ConfigurationValidation.InvalidConfigurationExitCode)
            return ConfigurationValidation.Refuse([unavailable.Reason], error);
        error.WriteLine($"Cannot listen: {unavailable.Reason}");
        return unavailable.ExitCode;
    }

    private static string[] Each(string urls) => urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // Kestrel listens on IPv6's any address in dual mode for * and +, and on both loopbacks for localhost, where it needs
    // only one: IPv6's may be missing (optional), though a taken port fails it either way. Port 0 asks for any free port,
    // which cannot be taken.
    private static (IPEndPoint Endpoint, bool Optional)[] EndpointsOf(string url)
    {
        var match = Address().Match(url);
        var port = match.Groups["port"].Success ? int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture)
            : url.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 443 : 80;
        if (port == 0)
            return [];
        var host = match.Groups["host"].Value;
        return host is "*" or "+" ? [(new IPEndPoint(IPAddress.IPv6Any, port), false)]
            : IsLocalhost(host) ? [(new IPEndPoint(IPAddress.Loopback, port), false), (new IPEndPoint(IPAddress.IPv6Loopback, port), true)]
            : [(new IPEndPoint(IPAddress.Parse(host.Trim('[', ']')), port), false)];
    }

    private static bool IsLocalhost(string host) => host.Equals("localhost", StringComparison.OrdinalIgnoreCase);

    // IPv6's any address, which Kestrel listens on in dual mode, claims its port on every address of both families;
    // IPv4's on every IPv4 address.
    private static bool ClaimOnePort(IPEndPoint one, IPEndPoint other) =>
        one.Port == other.Port && (one.Address.Equals(other.Address) || Covers(one.Address, other.Address) || Covers(other.Address, one.Address));

    private static bool Covers(IPAddress any, IPAddress address) =>
        any.Equals(IPAddress.IPv6Any) || (any.Equals(IPAddress.Any) && address.AddressFamily == AddressFamily.InterNetwork);

    private static void BindAndRelease(IPEndPoint endpoint)
    {
        try
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true;
            socket.Bind(endpoint);
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.AddressFamilyNotSupported && endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            // A host without IPv6: Kestrel falls back to IPv4's any address, and so does this check.
            BindAndRelease(new IPEndPoint(IPAddress.Any, endpoint.Port));
        }
    }

    private static string? Problem(string url)
    {
        var match = Address().Match(url);
        if (!match.Success)
            return "not a listen address; write http://HOST:PORT, e.g. http://127.0.0.1:8080";
        var host = match.Groups["host"].Value;
        var hostIsAllowed = host is "*" or "+" || IsLocalhost(host)
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
