using AkkaCollector.Observability;

namespace AkkaCollector.Tests.Observability;

public sealed class ProcNetTcpTests
{
    // Rows as Linux writes them: 127.0.0.1:8080 listening, an established connection from ephemeral port 41234 to
    // Kafka (9092), and a TIME_WAIT left behind on ephemeral port 55000 (inode 0: no process owns it any more).
    internal const string Tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 244599 1 0000000000000000 100 0 0 10 0
           1: 0100007F:A112 0100007F:2384 01 00000000:00000000 00:00000000 00000000  1000        0 244600 1 0000000000000000 20 4 30 10 -1
           2: 0100007F:D6D8 0100007F:2384 06 00000000:00000000 03:000009C6 00000000     0        0 0 3 0000000000000000
        """;

    // An IPv6 (v4-mapped) connection from ephemeral port 46242 to the collector's 8080, owned by another process.
    internal const string Tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0000000000000000FFFF00000100007F:B4A2 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 300001 1 0000000000000000 20 4 30 10 -1
        """;

    [Fact]
    public void Should_read_port_state_and_inode_of_every_row_of_an_ipv4_table()
    {
        var sockets = ProcNetTcp.ParseSockets(Tcp);

        Assert.Equal([new TcpSocket(8080, 0x0A, 244599), new TcpSocket(41234, 0x01, 244600), new TcpSocket(55000, 0x06, 0)], sockets);
        Assert.Equal(["listen", "established", "time_wait"], sockets.Select(socket => ProcNetTcp.StateNames[socket.State]));
    }

    [Fact]
    public void Should_read_the_port_after_the_last_colon_of_an_ipv6_address()
    {
        Assert.Equal([new TcpSocket(46242, 0x01, 300001)], ProcNetTcp.ParseSockets(Tcp6));
    }

    [Theory]
    [InlineData("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0")]
    [InlineData("   0: 0100007F1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1")]
    [InlineData("   0: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1")]
    [InlineData("   0: 0100007F:1F90 00000000:0000 0D 00000000:00000000 00:00000000 00000000  1000        0 1 1")]
    [InlineData("   0: 0100007F:1F90 00000000:0000 00 00000000:00000000 00:00000000 00000000  1000        0 1 1")]
    [InlineData("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 -5 1")]
    [InlineData("")]
    public void Should_skip_a_row_it_cannot_read_instead_of_throwing(string row)
    {
        Assert.Equal([new TcpSocket(41234, 0x01, 7)],
            ProcNetTcp.ParseSockets(row + "\n   1: 0100007F:A112 0100007F:2384 01 00000000:00000000 00:00000000 00000000  1000        0 7 1\n"));
    }

    [Theory]
    [InlineData("32768\t60999\n", 32768, 60999)]
    [InlineData("5000 64000", 5000, 64000)]
    [InlineData("  1024   1024  ", 1024, 1024)]
    public void Should_read_the_ephemeral_port_range(string text, int first, int last)
    {
        Assert.True(ProcNetTcp.TryParsePortRange(text, out var range));
        Assert.Equal(new PortRange(first, last), range);
    }

    [Theory]
    [InlineData("")]
    [InlineData("32768")]
    [InlineData("60999 32768")]
    [InlineData("32768 70000")]
    [InlineData("32768 60999 1")]
    [InlineData("-1 60999")]
    public void Should_refuse_a_port_range_that_is_not_two_ordered_ports(string text)
    {
        Assert.False(ProcNetTcp.TryParsePortRange(text, out _));
    }

    [Theory]
    [InlineData("socket:[244599]", true, 244599L)]
    [InlineData("socket:[]", false, 0L)]
    [InlineData("pipe:[244599]", false, 0L)]
    [InlineData("/tmp/spool/journal.db", false, 0L)]
    [InlineData("anon_inode:[eventpoll]", false, 0L)]
    [InlineData(null, false, 0L)]
    public void Should_read_the_inode_of_a_socket_descriptor_and_of_nothing_else(string? target, bool isSocket, long inode)
    {
        Assert.Equal(isSocket, ProcNetTcp.TryParseSocketInode(target, out var parsed));
        Assert.Equal(inode, parsed);
    }

    [Fact]
    public void Should_count_distinct_ephemeral_ports_and_sockets_by_state_of_the_included_sockets_only()
    {
        TcpSocket[] sockets = [.. ProcNetTcp.ParseSockets(Tcp), .. ProcNetTcp.ParseSockets(Tcp6), new TcpSocket(41234, 0x01, 244601)];
        var range = new PortRange(32768, 60999);

        var all = SocketCensus.Take(sockets, range, _ => true);
        var owned = SocketCensus.Take(sockets, range, socket => socket.Inode is 244599 or 244600);
        var unknownRange = SocketCensus.Take(sockets, null, _ => true);

        Assert.Equal(3, all.ByState[0x01]);
        Assert.Equal(1, all.ByState[0x06]);
        Assert.Equal(3, all.EphemeralPortsInUse);
        Assert.Equal([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], owned.ByState);
        Assert.Equal(1, owned.EphemeralPortsInUse);
        Assert.Null(unknownRange.EphemeralPortsInUse);
    }
}
