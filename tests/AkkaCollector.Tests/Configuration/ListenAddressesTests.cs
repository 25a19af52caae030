using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.Tests.Configuration;

/// <summary>
/// Before anything starts, the collector binds each address of <c>urls</c> as Kestrel will and lets it go: a port
/// another process listens on, however the address names it, refuses the start with the code a process manager retries;
/// two addresses of <c>urls</c> that claim one port are a bad setting.
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

    [Theory]
    [InlineData("http://127.0.0.1:{0};http://127.0.0.1:{0}", "http://127.0.0.1:{0}")]
    [InlineData("http://*:{0};http://127.0.0.1:{0}", "http://127.0.0.1:{0}")]
    [InlineData("http://127.0.0.1:{0};http://localhost:{0}", "http://localhost:{0}")]
    [InlineData("http://localhost:{0};http://[::1]:{0}", "http://[::1]:{0}")]
    public void Should_refuse_two_addresses_of_urls_that_claim_one_port_as_a_bad_setting(string urls, string second)
    {
        var port = FreePort();

        var unavailable = ListenAddresses.FirstUnavailable(string.Format(urls, port));

        Assert.NotNull(unavailable);
        Assert.Equal(ConfigurationValidation.InvalidConfigurationExitCode, unavailable.ExitCode);
        Assert.StartsWith($"urls = '{string.Format(second, port)}': port {port} is already claimed by an earlier address of urls",
            unavailable.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_let_one_port_on_two_different_addresses_through()
    {
        var port = FreePort();

        Assert.Null(ListenAddresses.FirstUnavailable($"http://127.0.0.1:{port};http://127.0.0.2:{port}"));
    }

    [Fact]
    public void Should_let_a_free_port_and_any_free_port_through_and_leave_them_free()
    {
        var port = FreePort();

        Assert.Null(ListenAddresses.FirstUnavailable($"http://127.0.0.1:{port};http://127.0.0.1:0"));
        using var kestrelLater = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        kestrelLater.Bind(new IPEndPoint(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task Should_never_accept_a_connection_while_it_checks_a_port()
    {
        // What a load balancer's health check or a test waiting for the collector does during the check: connect, again
        // and again. A check that listened would let some of them in and reset them when it let the port go.
        var port = FreePort();
        using var checking = new CancellationTokenSource();
        var accepted = 0;
        var prober = Task.Run(() =>
        {
            while (!checking.IsCancellationRequested)
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    probe.Connect(IPAddress.Loopback, port);
                    Interlocked.Increment(ref accepted);
                }
                catch (SocketException refused) when (refused.SocketErrorCode == SocketError.ConnectionRefused)
                {
                }
            }
        });

        for (var check = 0; check < 20_000; check++)
            Assert.Null(ListenAddresses.FirstUnavailable($"http://127.0.0.1:{port}"));
        await checking.CancelAsync();
        await prober;

        Assert.Equal(0, accepted);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose() => _otherProcess.Dispose();
}
