using AkkaCollector.KafkaMock;
using AkkaCollector.Rig.Faults;
using AkkaCollector.Rig.Traffic;
using AkkaCollector.Testing.Deploy;
using AkkaCollector.Testing.Faults;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;
using AkkaCollector.Testing.Redis;
using AkkaCollector.Testing.Repository;
using StackExchange.Redis;

namespace AkkaCollector.Rig.Scenarios;

/// <summary>One availability zone as started: its Kafka mock, the audit reading it, the proxied link a scenario cuts, its collectors.</summary>
public sealed record ZoneRuntime(string Name, KafkaMockProcess Kafka, TopicAudit Audit, ProxyLink KafkaLink, IReadOnlyList<CollectorNode> Collectors);

/// <summary>
/// Every process of a scenario, started on free loopback ports and stopped by PID, whatever ends the run.
/// Each zone gets its own Kafka mock cluster whose brokers advertise a TCP fault proxy each (see docs/rig.md,
/// "Isolation"): a broker advertises one address to every client, so one zone's Kafka can be black-holed while the
/// other keeps its own only if each zone has a cluster of its own. With <c>redis: true</c>, one redis-server serves
/// every collector, each through a proxy of its own, so any collector or zone can be cut from it alone.
/// The audit reads every zone's topic from the start, because the mock forgets old records. In front of the collectors,
/// Debian's HAProxy (the producers' only address) and Prometheus scraping them all, both configured from the same
/// templates as docker/ (<see cref="DeployTemplates"/>).
/// </summary>
public sealed class Topology : IAsyncDisposable
{
    private readonly List<ZoneRuntime> _zones = [];
    private readonly Dictionary<string, ProxyLink> _redisLinks = new(StringComparer.Ordinal);
    private readonly string _runDirectory;
    private RedisServerProcess? _redis;
    private HaproxyProcess? _haproxy;
    private PrometheusProcess? _prometheus;
    private SharedSpoolDatabases? _spools;

    private Topology(string runDirectory) => _runDirectory = runDirectory;

    public IReadOnlyList<ZoneRuntime> Zones => _zones;

    public IReadOnlyList<CollectorNode> Collectors => _zones.SelectMany(z => z.Collectors).ToArray();

    /// <summary>The load balancer producers send through.</summary>
    public HaproxyProcess Haproxy => _haproxy ?? throw new InvalidOperationException("HAProxy is not started yet.");

    /// <summary>The monitoring scraping every collector and HAProxy, evaluating docker/prometheus/alerts.yml.</summary>
    public PrometheusProcess Prometheus => _prometheus ?? throw new InvalidOperationException("Prometheus is not started yet.");

    public ZoneRuntime Zone(string name) => _zones.Single(z => z.Name == name);

    public CollectorNode Collector(string name) => Collectors.Single(c => c.Name == name);

    /// <summary>One collector's path to Redis (only with <c>redis: true</c>).</summary>
    public ProxyLink RedisLink(string collector) =>
        _redisLinks.TryGetValue(collector, out var link) ? link : throw new InvalidOperationException($"Collector {collector} has no Redis: the topology says 'redis: false'.");

    /// <summary>How many copies of <paramref name="messageId"/> every zone's topic holds together.</summary>
    public int TimesSeen(string messageId) => _zones.Sum(z => z.Audit.TimesSeen(messageId));

    /// <summary>Every zone's extra copies by where they came from.</summary>
    public IReadOnlyDictionary<CopyOrigin, int> ExtraCopiesByOrigin() =>
        _zones.SelectMany(z => z.Audit.ExtraCopiesByOrigin()).GroupBy(origin => origin.Key).ToDictionary(origin => origin.Key, origin => origin.Sum(o => o.Value));

    /// <summary>Starts Redis (if asked), every zone's Kafka mock, proxies and audit, then every collector; on failure stops what it started.</summary>
    public static async Task<Topology> StartAsync(Scenario scenario, string runDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        var topology = new Topology(runDirectory);
        try
        {
            var shared = new Dictionary<string, string>
            {
                ["Kafka__Topic"] = scenario.Topology.Kafka.Topic,
                // The rig's traffic plays the load balancer: X-Forwarded-For names the client, which rate limits and geo use.
                ["Ingress__TrustedProxies__0"] = "127.0.0.1",
            };
            if (scenario.Topology.Geo)
            {
                shared["Geo__DatabasePath"] = RepositoryPaths.GeoIpCityDatabase;
                log($"geo: {shared["Geo__DatabasePath"]}");
            }
            if (scenario.Topology.Redis)
            {
                topology._redis = RedisServerProcess.Start();
                await RegisterAppsAsync(topology._redis.EndPoint, scenario.Traffic.WriteKeys);
                shared["AppRegistry__Enabled"] = "true";
                log($"redis-server pid {topology._redis.Pid} at {topology._redis.EndPoint}, {scenario.Traffic.WriteKeys} apps registered");
            }
            if (scenario.Topology.Spool.Provider == "postgresql")
            {
                topology._spools = await SharedSpoolDatabases.StartAsync(scenario.Topology.Spool);
                log($"postgres pid {topology._spools.Pid}: one spool database per zone, shared by its collectors");
            }
            foreach (var zone in scenario.Topology.Zones)
                topology._zones.Add(await topology.StartZoneAsync(zone, scenario.Topology.Kafka, shared, log));
            await Task.WhenAll(topology.Collectors.Select(c => c.StartAsync(cancellationToken)));
            foreach (var collector in topology.Collectors)
                log($"collector {collector.Name} (zone {collector.Zone}) pid {collector.Pid} at {collector.Url}");
            await topology.StartLoadBalancerAndMonitoringAsync(log, cancellationToken);
            return topology;
        }
        catch
        {
            await topology.DisposeAsync();
            throw;
        }
    }

    /// <summary>Last resort when the rig itself is going down: SIGKILL every child by PID, synchronously.</summary>
    public void KillEverything()
    {
        _prometheus?.Dispose();
        _haproxy?.Dispose();
        foreach (var collector in Collectors)
            collector.Dispose();
        foreach (var zone in _zones)
            zone.Kafka.Process.Dispose();
        _redis?.Dispose();
        _spools?.Kill();
    }

    /// <summary>
    /// Restores every link, stops every collector gracefully (their logs go to the run folder), then the audits, proxies,
    /// Kafka mocks and Redis; whatever throws on the way, every process still goes, by PID.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            // After a failed step a link may still be cut: collectors stopping behind a black hole would sit out their flush timeout.
            foreach (var link in _zones.Select(z => z.KafkaLink).Concat(_redisLinks.Values))
                await link.RestoreAsync(CancellationToken.None);
            var logs = Path.Combine(_runDirectory, "logs");
            Directory.CreateDirectory(logs);
            await Task.WhenAll(Collectors.Where(c => c.Pid is not null).Select(c => c.StopAsync()));
            foreach (var collector in Collectors)
            {
                await File.WriteAllTextAsync(Path.Combine(logs, $"{collector.Name}.log"), collector.Output);
                collector.Dispose();
            }
            if (_haproxy is not null)
                await File.WriteAllTextAsync(Path.Combine(logs, "haproxy.log"), _haproxy.Output);
            if (_prometheus is not null)
                await File.WriteAllTextAsync(Path.Combine(logs, "prometheus.log"), _prometheus.Output);
            foreach (var link in _redisLinks.Values)
                await link.DisposeAsync();
            foreach (var zone in _zones)
            {
                await zone.Audit.DisposeAsync();
                await zone.KafkaLink.DisposeAsync();
                await File.WriteAllTextAsync(Path.Combine(logs, $"kafka-{zone.Name}.log"), zone.Kafka.Process.Output);
                await zone.Kafka.DisposeAsync();
            }
            if (_spools is not null)
                await _spools.DisposeAsync();
        }
        finally
        {
            KillEverything();
        }
    }

    /// <summary>
    /// HAProxy in front of every collector (returns once its checks have every one in rotation), then Prometheus
    /// scraping every collector and HAProxy; their configurations and data go to the run folder.
    /// </summary>
    private async Task StartLoadBalancerAndMonitoringAsync(Action<string> log, CancellationToken cancellationToken)
    {
        var balanced = Collectors.Select(c => new BalancedCollector(c.Name, c.Zone, c.Url.Authority)).ToArray();
        _haproxy = await HaproxyProcess.StartAsync(Path.Combine(_runDirectory, "haproxy"), balanced, cancellationToken);
        await _haproxy.WaitUntilAllUpAsync(TimeSpan.FromSeconds(30), cancellationToken);
        log($"haproxy pid {_haproxy.Pid}: producers at {_haproxy.ProducersUrl}, stats at {_haproxy.StatsUrl}stats, every collector in rotation");
        _prometheus = await PrometheusProcess.StartAsync(Path.Combine(_runDirectory, "prometheus"), balanced, _haproxy.StatsUrl.Authority, cancellationToken);
        log($"prometheus pid {_prometheus.Pid} at {_prometheus.Url}, scraping every collector and haproxy");
    }

    private async Task<ZoneRuntime> StartZoneAsync(ZoneSpec zone, KafkaSpec kafka, IReadOnlyDictionary<string, string> shared, Action<string> log)
    {
        var mock = await KafkaMockProcess.StartAsync(kafka.Brokers, kafka.Partitions, kafka.Topic);
        ProxyLink kafkaLink;
        try
        {
            kafkaLink = await ProxyBrokersAsync(zone.Name, mock);
        }
        catch
        {
            await mock.DisposeAsync();
            throw;
        }
        log($"zone {zone.Name}: Kafka mock pid {mock.Process.Pid} at {mock.BootstrapServers}, advertised through proxies {kafkaLink.Addresses}");
        var audit = TopicAudit.Start(kafkaLink.Addresses, kafka.Topic);
        var collectors = new List<CollectorNode>();
        var spool = _spools is null ? null : await _spools.ForZoneAsync(zone.Name);
        for (var i = 1; i <= zone.Collectors; i++)
        {
            var name = $"{zone.Name}{i}";
            var configuration = new Dictionary<string, string>(shared) { ["Kafka__BootstrapServers"] = kafkaLink.Addresses };
            foreach (var (key, value) in spool?.Invoke(name) ?? new Dictionary<string, string>())
                configuration[key] = value;
            if (_redis is not null)
            {
                var redisLink = new ProxyLink($"{name} -> redis-server", [TcpFaultProxy.Start("127.0.0.1", _redis.Port)]);
                _redisLinks[name] = redisLink;
                configuration["Redis__Configuration"] = redisLink.Addresses;
            }
            collectors.Add(new CollectorNode(name, zone.Name, Path.Combine(_runDirectory, "spool", name), configuration));
        }
        return new ZoneRuntime(zone.Name, mock, audit, kafkaLink, collectors);
    }

    /// <summary>
    /// Puts a fault proxy in front of every broker of <paramref name="mock"/> and makes the broker advertise it, so every
    /// client of this cluster (the zone's collectors and the audit alike) reaches the broker only through its proxy.
    /// The mock lists its bootstrap servers in broker-id order (1..N), as it created them.
    /// </summary>
    private static async Task<ProxyLink> ProxyBrokersAsync(string zone, KafkaMockProcess mock)
    {
        var listeners = mock.BootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(MockControlProtocol.ParseEndPoint).ToArray();
        var proxies = listeners.Select(listener => TcpFaultProxy.Start(listener.Address.ToString(), listener.Port)).ToArray();
        var link = new ProxyLink($"zone {zone} -> its Kafka mock ({proxies.Length} broker proxies)", proxies);
        try
        {
            for (var broker = 1; broker <= proxies.Length; broker++)
                await mock.Control.SetBrokerHostPortAsync(broker, "127.0.0.1", proxies[broker - 1].Port);
            return link;
        }
        catch
        {
            await link.DisposeAsync();
            throw;
        }
    }

    /// <summary>Registers every write key the traffic uses in the app registry, as an operator would before go-live.</summary>
    private static async Task RegisterAppsAsync(string redisEndPoint, int writeKeys)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redisEndPoint);
        var database = connection.GetDatabase();
        // The collector's default key prefix (Redis:KeyPrefix) and hash layout (RedisAppRegistryStore).
        await Task.WhenAll(Enumerable.Range(0, writeKeys).Select(i =>
            database.HashSetAsync($"collector:app:{EventFactory.WriteKey(i)}", "name", $"rig app {i}")));
    }
}
