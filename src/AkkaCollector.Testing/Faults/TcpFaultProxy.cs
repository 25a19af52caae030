using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.Testing.Faults;

/// <summary>What a <see cref="TcpFaultProxy"/> does to traffic.</summary>
public enum FaultMode
{
    /// <summary>Forward everything at once.</summary>
    Pass,

    /// <summary>Forward every chunk, in each direction, after a delay.</summary>
    Latency,

    /// <summary>Accept connections, forward nothing, close nothing: a network ACL that drops packets.</summary>
    BlackHole,

    /// <summary>Reset (RST) every existing connection and every new one.</summary>
    Reset,

    /// <summary>Stop listening (new connections are refused) and reset the existing ones: the upstream is gone.</summary>
    Refuse,
}

/// <summary>
/// A TCP proxy on 127.0.0.1 (ephemeral port) to one upstream, whose fault mode can be switched at run time.
/// During a black hole, traffic is held rather than dropped (as TCP retransmission would deliver it after a network
/// partition heals), so the byte stream is intact when the proxy passes again.
/// </summary>
public sealed class TcpFaultProxy : IDisposable
{
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly ConcurrentDictionary<ProxiedConnection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _listening = new();
    private volatile ModeState _state = new(FaultMode.Pass, TimeSpan.Zero);
    private TcpListener? _listener;
    private bool _listenedBefore;

    private TcpFaultProxy(string upstreamHost, int upstreamPort, int port)
    {
        _upstreamHost = upstreamHost;
        _upstreamPort = upstreamPort;
        Port = port;
    }

    /// <summary>The port the proxy listens on (127.0.0.1).</summary>
    public int Port { get; private set; }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public FaultMode Mode => _state.Mode;

    /// <summary>Connections currently open through the proxy.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>
    /// Starts a proxy to <paramref name="upstreamHost"/>:<paramref name="upstreamPort"/> in <see cref="FaultMode.Pass"/>,
    /// listening on <paramref name="port"/> (0: an ephemeral port); a taken port throws <see cref="SocketException"/>.
    /// </summary>
    public static TcpFaultProxy Start(string upstreamHost, int upstreamPort, int port = 0)
    {
        var proxy = new TcpFaultProxy(upstreamHost, upstreamPort, port);
        proxy.Listen();
        return proxy;
    }

    public void Pass() => Switch(new ModeState(FaultMode.Pass, TimeSpan.Zero));

    /// <summary>Delays every chunk by <paramref name="delay"/>, in each direction.</summary>
    public void Latency(TimeSpan delay) => Switch(new ModeState(FaultMode.Latency, delay));

    public void BlackHole() => Switch(new ModeState(FaultMode.BlackHole, TimeSpan.Zero));

    public void Reset()
    {
        Switch(new ModeState(FaultMode.Reset, TimeSpan.Zero));
        ResetAll();
    }

    public void Refuse()
    {
        Switch(new ModeState(FaultMode.Refuse, TimeSpan.Zero));
        lock (_listening)
        {
            _listener?.Stop();
            _listener = null;
        }
        ResetAll();
    }

    public void Dispose()
    {
        _stopping.Cancel();
        lock (_listening)
        {
            _listener?.Stop();
            _listener = null;
        }
        ResetAll();
        _state.Released.TrySetResult();
        _stopping.Dispose();
    }

    private void Switch(ModeState next)
    {
        var previous = _state;
        _state = next;
        // Held traffic moves on (or is reset) as soon as the black hole ends.
        previous.Released.TrySetResult();
        if (next.Mode != FaultMode.Refuse)
            Listen();
    }

    private void Listen()
    {
        lock (_listening)
        {
            if (_listener is not null || _stopping.IsCancellationRequested)
                return;
            var listener = new TcpListener(IPAddress.Loopback, Port);
            // Refuse then Pass listens again on the same port, which may still have connections in TIME_WAIT. Only
            // then: on Linux .NET's ReuseAddress also sets SO_REUSEPORT, and a first bind with it would share a port
            // another process listens on instead of failing.
            if (_listenedBefore)
                listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listenedBefore = true;
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _listener = listener;
            _ = AcceptLoopAsync(listener);
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return;
            }
            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(Socket client)
    {
        client.NoDelay = true;
        if (_state.Mode is FaultMode.Reset or FaultMode.Refuse)
        {
            Abort(client);
            return;
        }
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await upstream.ConnectAsync(_upstreamHost, _upstreamPort, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Abort(client);
            Abort(upstream);
            return;
        }
        var connection = new ProxiedConnection(client, upstream);
        _connections.TryAdd(connection, 0);
        try
        {
            await Task.WhenAll(PumpAsync(client, upstream), PumpAsync(upstream, client)).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            Abort(client);
            Abort(upstream);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                var state = _state;
                while (state.Mode == FaultMode.BlackHole)
                {
                    await state.Released.Task.WaitAsync(_stopping.Token).ConfigureAwait(false);
                    state = _state;
                }
                if (state.Mode is FaultMode.Reset or FaultMode.Refuse)
                    return;
                if (state.Mode == FaultMode.Latency)
                    await Task.Delay(state.Delay, _stopping.Token).ConfigureAwait(false);
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The other pump or a Reset closed the sockets: the connection is over.
        }
    }

    private void ResetAll()
    {
        foreach (var connection in _connections.Keys)
        {
            Abort(connection.Client);
            Abort(connection.Upstream);
        }
    }

    /// <summary>Closes with SO_LINGER 0, which sends RST instead of FIN: the peer sees "connection reset".</summary>
    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        socket.Dispose();
    }

    private sealed record ModeState(FaultMode Mode, TimeSpan Delay)
    {
        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record ProxiedConnection(Socket Client, Socket Upstream);
}
