using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AkkaCollector.KafkaMock;

/// <summary>Serves <see cref="MockControlProtocol"/> for one <see cref="MockCluster"/> on a loopback TCP port.</summary>
public sealed class MockControlServer : IAsyncDisposable
{
    private readonly MockCluster _cluster;
    private readonly LoopbackListener _listener;

    private MockControlServer(MockCluster cluster, int port)
    {
        _cluster = cluster;
        _listener = LoopbackListener.Start(port, ServeAsync);
    }

    /// <summary>Where the server listens: 127.0.0.1 and the chosen port.</summary>
    public IPEndPoint EndPoint => _listener.EndPoint;

    /// <summary>Starts listening on 127.0.0.1:<paramref name="port"/> (0 = an ephemeral port).</summary>
    public static MockControlServer Start(MockCluster cluster, int port = 0) => new(cluster, port);

    /// <summary>Stops accepting, closes open connections and waits for their handlers.</summary>
    public ValueTask DisposeAsync() => _listener.DisposeAsync();

    private async Task ServeAsync(TcpClient client, CancellationToken stopping)
    {
        await using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };
        while (await reader.ReadLineAsync(stopping) is { } line)
        {
            // Mock control calls are synchronous and sometimes stall ~1 s; keep them off the I/O path.
            var answer = await Task.Run(() => MockControlProtocol.Execute(_cluster, line));
            await writer.WriteLineAsync(answer.AsMemory(), stopping);
        }
    }
}
