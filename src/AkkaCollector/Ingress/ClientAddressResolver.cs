using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AkkaCollector.Ingress;

/// <summary>
/// Finds the producer's address: the connection's peer, unless that peer is a trusted proxy, in which case
/// X-Forwarded-For is walked right to left, skipping trusted proxies, and the first untrusted hop is the client.
/// Hops left of an untrusted one were written by the client itself and are never believed.
/// </summary>
public sealed class ClientAddressResolver
{
    private readonly IPNetwork[] _trustedProxies;

    public ClientAddressResolver(IOptions<IngressOptions> options)
        : this(options.Value.TrustedProxies)
    {
    }

    internal ClientAddressResolver(IEnumerable<string> trustedProxies) =>
        _trustedProxies = trustedProxies
            .Select(entry => TryParseNetwork(entry, out var network) ? network : throw new FormatException(InvalidProxyEntry(entry)))
            .ToArray();

    /// <summary>The client's address, or null when the server does not know its peer (in-process test servers).</summary>
    public IPAddress? Resolve(IPAddress? peer, StringValues forwardedFor)
    {
        if (peer is null)
            return null;
        var client = Normalize(peer);
        if (!IsTrusted(client))
            return client;
        for (var v = forwardedFor.Count - 1; v >= 0; v--)
        {
            var hops = (forwardedFor[v] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (var h = hops.Length - 1; h >= 0; h--)
            {
                // A hop that is not an address means the chain beyond it cannot be read: the last hop we could read stands.
                if (!TryParseHop(hops[h], out var hop))
                    return client;
                client = hop;
                if (!IsTrusted(client))
                    return client;
            }
        }
        return client;
    }

    internal static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    internal static bool TryParseNetwork(string entry, out IPNetwork network)
    {
        var text = entry.Trim();
        if (!text.Contains('/') && IPAddress.TryParse(text, out var address))
        {
            address = Normalize(address);
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        return IPNetwork.TryParse(text, out network);
    }

    internal static string InvalidProxyEntry(string entry) =>
        $"Ingress:TrustedProxies: '{entry}' is neither an IP address nor a CIDR block.";

    private bool IsTrusted(IPAddress address)
    {
        foreach (var network in _trustedProxies)
        {
            if (network.Contains(address))
                return true;
        }
        return false;
    }

    // Proxies may append a port ("203.0.113.7:51234", "[2001:db8::1]:443"); IPEndPoint reads both forms.
    private static bool TryParseHop(string hop, out IPAddress address)
    {
        if (IPEndPoint.TryParse(hop, out var endpoint))
        {
            address = Normalize(endpoint.Address);
            return true;
        }
        address = IPAddress.None;
        return false;
    }
}
