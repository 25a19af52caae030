using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.KafkaMock;

/// <summary>
/// Accepts TCP connections on 127.0.0.1 and serves each with a handler until disposed, then waits for the handlers:
/// what the control server and the stable-address forwarder share.
/// </summary>
internal sealed class LoopbackListener : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<TcpClient, CancellationToken, Task> _serve;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Task _acceptLoop;

    private LoopbackListener(TcpListener listener, Func<TcpClient, CancellationToken, Task> serve)
    {
        _listener = listener;
        _serve = serve;
        EndPoint = (IPEndPoint)listener.LocalEndpoint;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Where it listens: 127.0.0.1 and the chosen port.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// Listens on 127.0.0.1:<paramref name="port"/> (0 = an ephemeral port). A port another process listens on throws
    /// <see cref="SocketException"/>: no SO_REUSEADDR, which on Linux .NET would also share the port.
    /// </summary>
    public static LoopbackListener Start(int port, Func<TcpClient, CancellationToken, Task> serve)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        return new LoopbackListener(listener, serve);
    }

    /// <summary>Stops accepting, cancels every handler and waits for them.</summary>
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
                client = await _listener.AcceptTcpClientAsync(_stopping.Token).ConfigureAwait(false);
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
            await _serve(client, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The peer left or the listener is stopping: either way this connection is over.
        }
    }
}
