using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.Tests.Configuration;

/// <summary>
/// Before anything starts, the collector binds each address of <c>urls</c> as Kestrel will and lets it go: a port
/// another process listens on, however the address names it, refuses the start with the code a process manager retries.
/// </summary>
public sealed class ListenAddressesTests : IDisposable
{
    private readonly TcpListener _otherProcess = new(IPAddress.Loopback, 0);

    public ListenAddressesTests() => _otherProcess.Start();

    private int TakenPort => ((IPEndPoint)_otherProcess.LocalEndpoint).Port;

    [Theory]
    [InlineData("http://127.0.0.1:{0}")]
    [InlineData("http://localhost:{0}")]
    [InlineData("http://*:{0}")]
    [InlineData("http://127.0.0.1:0;http://127.0.0.1:{0}")]
    public void Should_refuse_a_port_another_process_listens_on_with_the_code_a_restart_may_fix(string urls)
    {
        var unavailable = ListenAddresses.FirstUnavailable(string.Format(urls, TakenPort));

        Assert.NotNull(unavailable);
        Assert.Equal(ListenAddresses.PortTakenExitCode, unavailable.ExitCode);
        Assert.StartsWith($"urls = '{string.Format(urls, TakenPort).Split(';')[^1]}': address already in use", unavailable.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_let_a_free_port_and_any_free_port_through_and_leave_them_free()
    {
        var free = new TcpListener(IPAddress.Loopback, 0);
        free.Start();
        var port = ((IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();

        Assert.Null(ListenAddresses.FirstUnavailable($"http://127.0.0.1:{port};http://127.0.0.1:0"));
        using var kestrelLater = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        kestrelLater.Bind(new IPEndPoint(IPAddress.Loopback, port));
    }

    public void Dispose() => _otherProcess.Dispose();
}
