using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaCollector.Rig.LoadBalancer;
using AkkaCollector.Testing.Deploy;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>
/// Debian's HAProxy, configured from docker/haproxy/haproxy.cfg.template as the rig runs it, in front of a real
/// collector and a "dying" one: a server that passes every readiness check but drops each request it receives
/// without an answer, as a collector killed with requests in flight does.
/// </summary>
public sealed class LoadBalancerTests : IAsyncLifetime
{
    private const int Requests = 40;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"rig-lb-{Guid.NewGuid():N}");
    private readonly TcpListener _dying = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private CollectorProcess _collector = null!;
    private Task _dyingLoop = Task.CompletedTask;
    private int _dropped;

    public async Task InitializeAsync()
    {
        _collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());
        _dying.Start();
        _dyingLoop = Task.Run(ServeDyingAsync);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _dying.Stop();
        await _dyingLoop;
        if (_collector.IsRunning)
            await _collector.StopAsync(TimeSpan.FromSeconds(40));
        _collector.Dispose();
        _stop.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Should_replay_a_POST_whose_collector_dropped_it_unanswered_on_another_collector_and_count_the_retry()
    {
        var dyingAddress = $"127.0.0.1:{((IPEndPoint)_dying.LocalEndpoint).Port}";
        using var haproxy = await HaproxyProcess.StartAsync(_folder,
            [new BalancedCollector("alive", "a", new Uri(_collector.BaseUrl).Authority), new BalancedCollector("dying", "a", dyingAddress)]);
        await haproxy.WaitUntilAllUpAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < Requests; i++)
        {
            using var content = new StringContent($$"""{"type":"track","event":"Retried","userId":"u{{i}}","messageId":"lb-{{i}}"}""", Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(haproxy.ProducersUrl, "/v1/track")) { Content = content };
            request.Headers.Authorization = new("Basic", Convert.ToBase64String("lb_wk:"u8.ToArray()));
            using var answer = await http.SendAsync(request);
            statuses.Add(answer.StatusCode);
        }
        var rows = await haproxy.StatsAsync(http);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.True(Volatile.Read(ref _dropped) > 0, "leastconn sent nothing to the dying server: the test proved nothing");
        var backend = rows.Single(r => r.Proxy == LoadBalancerWatch.Backend && r.Name == "BACKEND");
        Assert.True(backend.Redispatches >= Volatile.Read(ref _dropped),
            $"{_dropped} requests dropped unanswered, but HAProxy sent {backend.Redispatches} to another server (and {backend.Retries} to the same)");
        Assert.Equal("UP", rows.Single(r => r.Name == "dying").Status);
        Assert.Equal(0, rows.Single(r => r.Proxy == LoadBalancerWatch.Frontend && r.Name == "FRONTEND").Responses5xx);
    }

    /// <summary>Answers GET /health/ready with 200; reads any other request in full and closes the connection without a byte.</summary>
    private async Task ServeDyingAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _dying.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var buffer = new byte[65536];
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("GET /health/ready", StringComparison.Ordinal))
                        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nready"u8.ToArray(), _stop.Token);
                    else
                        Interlocked.Increment(ref _dropped);
                }
            });
        }
    }
}
