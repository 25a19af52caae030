using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.KafkaMock;

/// <summary>
/// Relays a fixed port on 127.0.0.1 to one upstream address, byte for byte: the embedded mock cluster listens on a
/// port librdkafka picks at random, and this gives it the same address on every start.
/// </summary>
public sealed class LoopbackForwarder : IDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<TcpClient, byte> _open = new();

    private LoopbackForwarder(TcpListener listener, IPEndPoint upstream)
    {
        _listener = listener;
        _upstream = upstream;
    }

    /// <summary>
    /// Listens on 127.0.0.1:<paramref name="port"/>; a port another process listens on throws
    /// <see cref="SocketException"/> (no SO_REUSEADDR, which on Linux .NET would also share the port).
    /// </summary>
    public static LoopbackForwarder Start(int port, IPEndPoint upstream)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        var forwarder = new LoopbackForwarder(listener, upstream);
        _ = forwarder.AcceptLoopAsync();
        return forwarder;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
        foreach (var client in _open.Keys)
            client.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        _open.TryAdd(client, 0);
        _open.TryAdd(upstream, 0);
        try
        {
            await upstream.ConnectAsync(_upstream, _stopping.Token).ConfigureAwait(false);
            var (down, up) = (client.GetStream(), upstream.GetStream());
            // Either side closing ends the connection: a Kafka client never half-closes.
            await Task.WhenAny(down.CopyToAsync(up, _stopping.Token), up.CopyToAsync(down, _stopping.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The upstream is gone or the forwarder is stopping: the connection is over.
        }
        finally
        {
            _open.TryRemove(client, out _);
            _open.TryRemove(upstream, out _);
            client.Dispose();
        }
    }
}
