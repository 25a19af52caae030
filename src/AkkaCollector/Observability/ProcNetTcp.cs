using System.Globalization;

namespace AkkaCollector.Observability;

/// <summary>One row of /proc/net/tcp or tcp6: the local port, the kernel's state code and the socket inode (0 when no process owns it, e.g. TIME_WAIT).</summary>
public readonly record struct TcpSocket(int LocalPort, int State, long Inode);

/// <summary>An inclusive port range, e.g. the kernel's ephemeral ports (net.ipv4.ip_local_port_range).</summary>
public readonly record struct PortRange(int First, int Last)
{
    public bool Contains(int port) => port >= First && port <= Last;
}

/// <summary>
/// Reads the kernel's socket tables as text. Pure and tolerant: a line it cannot read is skipped, never thrown on,
/// because it runs inside a metrics scrape that must always answer.
/// </summary>
public static class ProcNetTcp
{
    /// <summary>Label of each TCP state, indexed by the kernel's code (include/net/tcp_states.h); index 0 is unused.</summary>
    public static readonly string[] StateNames =
    [
        "", "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait",
        "close", "close_wait", "last_ack", "listen", "closing", "new_syn_recv",
    ];

    private const int LocalAddressField = 1;
    private const int StateField = 3;
    private const int InodeField = 9;

    /// <summary>
    /// The sockets listed in the text of /proc/net/tcp or /proc/net/tcp6. A row reads
    /// <c>sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...</c>
    /// with the address as <c>HEXIP:HEXPORT</c> and the state in hex; the header and malformed rows are skipped.
    /// </summary>
    public static List<TcpSocket> ParseSockets(string text)
    {
        var sockets = new List<TcpSocket>();
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (TryParseRow(line, out var socket))
                sockets.Add(socket);
        }
        return sockets;
    }

    /// <summary>Reads /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999"); false when it is not two ports in order.</summary>
    public static bool TryParsePortRange(string text, out PortRange range)
    {
        range = default;
        Span<Range> parts = stackalloc Range[3];
        var span = text.AsSpan().Trim();
        if (span.SplitAny(parts, " \t", StringSplitOptions.RemoveEmptyEntries) != 2
            || !int.TryParse(span[parts[0]], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(span[parts[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first > last || last > ushort.MaxValue)
            return false;
        range = new PortRange(first, last);
        return true;
    }

    /// <summary>The inode of a /proc/PID/fd link target <c>socket:[12345]</c>; false for files, pipes and the rest.</summary>
    public static bool TryParseSocketInode(string? linkTarget, out long inode)
    {
        inode = 0;
        const string prefix = "socket:[";
        return linkTarget is not null
               && linkTarget.StartsWith(prefix, StringComparison.Ordinal)
               && linkTarget.EndsWith(']')
               && long.TryParse(linkTarget.AsSpan(prefix.Length, linkTarget.Length - prefix.Length - 1),
                   NumberStyles.None, CultureInfo.InvariantCulture, out inode);
    }

    private static bool TryParseRow(ReadOnlySpan<char> line, out TcpSocket socket)
    {
        socket = default;
        ReadOnlySpan<char> local = default, state = default, inode = default;
        var field = 0;
        foreach (var token in line.SplitAny(" \t"))
        {
            var value = line[token];
            if (value.IsEmpty)
                continue;
            switch (field++)
            {
                case LocalAddressField: local = value; break;
                case StateField: state = value; break;
                case InodeField: inode = value; break;
            }
            if (field > InodeField)
                break;
        }

        var colon = local.LastIndexOf(':');
        if (field <= InodeField || colon < 0
            || !int.TryParse(local[(colon + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port)
            || !int.TryParse(state, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
            || code <= 0 || code >= StateNames.Length
            || !long.TryParse(inode, NumberStyles.None, CultureInfo.InvariantCulture, out var inodeNumber))
            return false;
        socket = new TcpSocket(port, code, inodeNumber);
        return true;
    }
}
