using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.KafkaMock;

/// <summary>
/// Relays a fixed port on 127.0.0.1 to one upstream address, byte for byte: the embedded mock cluster listens on a
/// port librdkafka picks at random, and this gives it the same address on every start.
/// </summary>
public sealed class LoopbackForwarder : IDisposable
{
    private readonly LoopbackListener _listener;
    private readonly IPEndPoint _upstream;

    private LoopbackForwarder(int port, IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener = LoopbackListener.Start(port, RelayAsync);
    }

    /// <summary>
    /// Listens on 127.0.0.1:<paramref name="port"/>; a port another process listens on throws
    /// <see cref="SocketException"/>.
    /// </summary>
    public static LoopbackForwarder Start(int port, IPEndPoint upstream) => new(port, upstream);

    /// <summary>Stops accepting and closes every relayed connection (at shutdown, where waiting for that is short).</summary>
    public void Dispose() => _listener.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task RelayAsync(TcpClient client, CancellationToken stopping)
    {
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(_upstream, stopping).ConfigureAwait(false);
        var (down, up) = (client.GetStream(), upstream.GetStream());
        // Either side closing ends the connection: a Kafka client never half-closes.
        await Task.WhenAny(down.CopyToAsync(up, stopping), up.CopyToAsync(down, stopping)).ConfigureAwait(false);
    }
}
