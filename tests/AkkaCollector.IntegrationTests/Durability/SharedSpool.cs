using AkkaCollector.KafkaMock;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Postgres;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>
/// Collectors sharing one PostgreSQL spool database, each under its own Collector:InstanceId, delivering to one Kafka
/// mock that outlives them, and an audit of its topic. Disposing kills every collector by PID, then the audit and the mock.
/// </summary>
internal sealed class SharedSpool : IAsyncDisposable
{
    /// <summary>Short, so takeovers happen within a test; long enough that a busy 2-core runner keeps its pings in time.</summary>
    public static readonly TimeSpan TakeoverAfter = TimeSpan.FromSeconds(8);

    private const string Topic = "events";
    private readonly List<CollectorProcess> _collectors = [];
    private readonly string _connectionString;

    private SharedSpool(KafkaMockProcess kafka, TopicAudit audit, string connectionString) =>
        (Kafka, Audit, _connectionString) = (kafka, audit, connectionString);

    public KafkaMockProcess Kafka { get; }

    public TopicAudit Audit { get; }

    /// <summary>A fresh database <paramref name="database"/> on <paramref name="server"/>, a one-broker mock and its audit.</summary>
    public static async Task<SharedSpool> StartAsync(PostgresServer server, string database)
    {
        var connectionString = await server.CreateDatabaseAsync(database);
        var kafka = await KafkaMockProcess.StartAsync(brokers: 1, partitions: 8, Topic);
        return new SharedSpool(kafka, TopicAudit.Start(kafka.BootstrapServers, Topic), connectionString);
    }

    /// <summary>Starts a collector named <paramref name="instanceId"/> on the shared spool.</summary>
    public async Task<CollectorProcess> StartCollectorAsync(string instanceId)
    {
        var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions
        {
            KafkaBootstrapServers = Kafka.BootstrapServers,
            Settings = new Dictionary<string, string>
            {
                ["Spool__Provider"] = "postgresql",
                ["Spool__ConnectionString"] = _connectionString,
                ["Spool__TakeoverAfter"] = TakeoverAfter.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                ["Collector__InstanceId"] = instanceId,
            },
        });
        _collectors.Add(collector);
        return collector;
    }

    public Task SetKafkaDownAsync() => Kafka.Control.SetBrokerDownAsync(MockCluster.AllBrokers);

    public Task SetKafkaUpAsync() => Kafka.Control.SetBrokerUpAsync(MockCluster.AllBrokers);

    /// <summary>Lines of the collector's current incarnation containing <paramref name="text"/>.</summary>
    public static int LinesWith(CollectorProcess collector, string text) =>
        collector.Current.Lines.Count(line => line.Text.Contains(text, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var collector in _collectors)
                collector.Dispose();
        }
        finally
        {
            try
            {
                await Audit.DisposeAsync();
            }
            finally
            {
                await Kafka.DisposeAsync();
            }
        }
    }
}
