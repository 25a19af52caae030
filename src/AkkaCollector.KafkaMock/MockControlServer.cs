using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AkkaCollector.KafkaMock;

/// <summary>Serves <see cref="MockControlProtocol"/> for one <see cref="MockCluster"/> on a loopback TCP port.</summary>
public sealed class MockControlServer : IAsyncDisposable
{
    private readonly MockCluster _cluster;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Task _acceptLoop;

    private MockControlServer(MockCluster cluster, TcpListener listener)
    {
        _cluster = cluster;
        _listener = listener;
        EndPoint = (IPEndPoint)listener.LocalEndpoint;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Where the server listens: 127.0.0.1 and the chosen port.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Starts listening on 127.0.0.1:<paramref name="port"/> (0 = an ephemeral port).</summary>
    public static MockControlServer Start(MockCluster cluster, int port = 0)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        return new MockControlServer(cluster, listener);
    }

    /// <summary>Stops accepting, closes open connections and waits for their handlers.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        await Task.WhenAll(_connections.Keys);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var connection = ServeAsync(client);
            _connections.TryAdd(connection, 0);
            _ = connection.ContinueWith(done => _connections.TryRemove(done, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            await using var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.UTF8);
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };
            while (await reader.ReadLineAsync(_stopping.Token) is { } line)
            {
                // Mock control calls are synchronous and sometimes stall ~1 s; keep them off the I/O path.
                var answer = await Task.Run(() => MockControlProtocol.Execute(_cluster, line));
                await writer.WriteLineAsync(answer.AsMemory(), _stopping.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The peer left or the server is stopping: either way this connection is over.
        }
    }
}
