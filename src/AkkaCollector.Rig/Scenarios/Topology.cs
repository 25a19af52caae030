using AkkaCollector.Rig.Faults;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Rig.Scenarios;

/// <summary>One availability zone as started: its Kafka mock, the audit reading it, the link a scenario cuts, its collectors.</summary>
public sealed record ZoneRuntime(string Name, KafkaMockProcess Kafka, TopicAudit Audit, IDependencyLink KafkaLink, IReadOnlyList<CollectorNode> Collectors);

/// <summary>
/// Every process of a scenario, started on free loopback ports and stopped by PID, whatever ends the run.
/// Each zone gets its own Kafka mock cluster (see docs/rig.md, "Isolation"): a mock cluster advertises one address
/// per broker to every client, so the only way to cut one zone's Kafka while the other keeps it is to give each zone
/// a cluster of its own. The audit reads every zone's topic from the start, because the mock forgets old records.
/// </summary>
public sealed class Topology : IAsyncDisposable
{
    private readonly List<ZoneRuntime> _zones;
    private readonly string _runDirectory;

    private Topology(List<ZoneRuntime> zones, string runDirectory)
    {
        _zones = zones;
        _runDirectory = runDirectory;
    }

    public IReadOnlyList<ZoneRuntime> Zones => _zones;

    public IReadOnlyList<CollectorNode> Collectors => _zones.SelectMany(z => z.Collectors).ToArray();

    public ZoneRuntime Zone(string name) => _zones.Single(z => z.Name == name);

    public CollectorNode Collector(string name) => Collectors.Single(c => c.Name == name);

    /// <summary>How many copies of <paramref name="messageId"/> every zone's topic holds together.</summary>
    public int TimesSeen(string messageId) => _zones.Sum(z => z.Audit.TimesSeen(messageId));

    /// <summary>Starts every zone's Kafka mock and audit, then every collector; on failure stops what it started.</summary>
    public static async Task<Topology> StartAsync(Scenario scenario, string runDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        var zones = new List<ZoneRuntime>();
        var topology = new Topology(zones, runDirectory);
        try
        {
            if (scenario.Topology.Redis)
                throw new NotSupportedException("Scenarios with 'redis: true' need the redis-server fixture and the TCP fault proxy (AkkaCollector.Testing), not in this build.");
            var kafka = scenario.Topology.Kafka;
            foreach (var zone in scenario.Topology.Zones)
            {
                var mock = await KafkaMockProcess.StartAsync(kafka.Brokers, kafka.Partitions, kafka.Topic);
                log($"zone {zone.Name}: Kafka mock pid {mock.Process.Pid} at {mock.BootstrapServers}");
                var audit = TopicAudit.Start(mock.BootstrapServers, kafka.Topic);
                var configuration = new Dictionary<string, string>
                {
                    ["Kafka__BootstrapServers"] = mock.BootstrapServers,
                    ["Kafka__Topic"] = kafka.Topic,
                };
                var collectors = Enumerable.Range(1, zone.Collectors)
                    .Select(i => new CollectorNode($"{zone.Name}{i}", zone.Name, Path.Combine(runDirectory, "spool", $"{zone.Name}{i}"), configuration))
                    .ToArray();
                zones.Add(new ZoneRuntime(zone.Name, mock, audit, new MockBrokersLink(zone.Name, mock.Control), collectors));
            }
            await Task.WhenAll(topology.Collectors.Select(c => c.StartAsync(cancellationToken)));
            foreach (var collector in topology.Collectors)
                log($"collector {collector.Name} (zone {collector.Zone}) pid {collector.Pid} at {collector.Url}");
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
        foreach (var collector in Collectors)
            collector.Dispose();
        foreach (var zone in _zones)
            zone.Kafka.Process.Dispose();
    }

    /// <summary>Stops every collector gracefully (their logs go to the run folder), then the audits and the Kafka mocks.</summary>
    public async ValueTask DisposeAsync()
    {
        var logs = Path.Combine(_runDirectory, "logs");
        Directory.CreateDirectory(logs);
        await Task.WhenAll(Collectors.Where(c => c.Pid is not null).Select(c => c.StopAsync()));
        foreach (var collector in Collectors)
        {
            await File.WriteAllTextAsync(Path.Combine(logs, $"{collector.Name}.log"), collector.Output);
            collector.Dispose();
        }
        foreach (var zone in _zones)
        {
            await zone.Audit.DisposeAsync();
            await zone.KafkaLink.DisposeAsync();
            await File.WriteAllTextAsync(Path.Combine(logs, $"kafka-{zone.Name}.log"), zone.Kafka.Process.Output);
            await zone.Kafka.DisposeAsync();
        }
    }
}
