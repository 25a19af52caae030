using AkkaCollector.KafkaMock;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>
/// A standalone Kafka mock, an audit reading its topic from the start, and a collector process delivering to it.
/// The mock outlives the collector, so a killed or restarted collector delivers into the same topic.
/// </summary>
internal sealed class CollectorWithKafka : IAsyncDisposable
{
    public const string Topic = "events";
    // The mock keeps only the newest 5 MiB per partition; 32 keep every event of these runs readable.
    private const int KafkaPartitions = 32;

    private CollectorWithKafka(KafkaMockProcess kafka, TopicAudit audit, CollectorProcess collector) =>
        (Kafka, Audit, Collector) = (kafka, audit, collector);

    public KafkaMockProcess Kafka { get; }

    public TopicAudit Audit { get; }

    public CollectorProcess Collector { get; }

    /// <summary>Starts the mock, then the audit (<paramref name="inspect"/> sees every record), then the collector with <paramref name="settings"/>.</summary>
    public static async Task<CollectorWithKafka> StartAsync(
        int brokers = 3, IReadOnlyDictionary<string, string>? settings = null, Action<AuditedRecord>? inspect = null)
    {
        var kafka = await KafkaMockProcess.StartAsync(brokers, KafkaPartitions, Topic);
        TopicAudit? audit = null;
        try
        {
            audit = TopicAudit.Start(kafka.BootstrapServers, Topic, inspect: inspect);
            return new CollectorWithKafka(kafka, audit, await CollectorProcess.StartAsync(kafka.BootstrapServers, settings));
        }
        catch
        {
            try
            {
                if (audit is not null)
                    await audit.DisposeAsync();
            }
            finally
            {
                await kafka.DisposeAsync();
            }
            throw;
        }
    }

    public Task SetAllBrokersDownAsync() => Kafka.Control.SetBrokerDownAsync(MockCluster.AllBrokers);

    public Task SetAllBrokersUpAsync() => Kafka.Control.SetBrokerUpAsync(MockCluster.AllBrokers);

    /// <summary>Kills the collector first (by PID), then stops reading, then stops the mock; each step runs whatever the one before threw.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            Collector.Dispose();
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
