using AkkaCollector.Testing.Faults;
using AkkaCollector.Testing.Redis;
using StackExchange.Redis;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// The lookups' Redis for the benchmark: a private redis-server on loopback, reached only through a TCP fault proxy so
/// that a phase can black-hole it (a network ACL dropping packets: connections stay open, nothing answers).
/// Disposing stops the proxy and kills the server by its PID.
/// </summary>
internal sealed class RedisBehindProxy : IDisposable
{
    private readonly RedisServerProcess _server;
    private readonly TcpFaultProxy _proxy;
    private int _disposed;

    private RedisBehindProxy(RedisServerProcess server, TcpFaultProxy proxy)
    {
        _server = server;
        _proxy = proxy;
    }

    public int ServerPid => _server.Pid;

    /// <summary>The collector's <c>Redis:Configuration</c>: the proxy, never the server itself.</summary>
    public string Configuration => $"{_proxy.EndPoint}";

    public static RedisBehindProxy Start()
    {
        var server = RedisServerProcess.Start();
        try
        {
            return new RedisBehindProxy(server, TcpFaultProxy.Start("127.0.0.1", server.Port));
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Registers one app per write key (HSET {prefix}app:{key} name ...), straight to the server, as an admin tool would.</summary>
    public void RegisterApps(IEnumerable<string> writeKeys, string keyPrefix)
    {
        using var connection = ConnectionMultiplexer.Connect(new ConfigurationOptions { EndPoints = { _server.EndPoint }, ConnectTimeout = 2000 });
        var database = connection.GetDatabase();
        foreach (var key in writeKeys)
            database.HashSet($"{keyPrefix}app:{key}", [new HashEntry("name", $"bench app {key}"), new HashEntry("geo", "on")]);
    }

    public void BlackHole() => _proxy.BlackHole();

    public void Pass() => _proxy.Pass();

    /// <summary>Once only: the rig's exit handler may call it again after the run's own clean-up.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _proxy.Dispose();
        _server.Dispose();
    }
}
