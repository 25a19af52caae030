using AkkaCollector.KafkaMock;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Publishing;

/// <summary>
/// Where Kafka is: the configured bootstrap servers or, when none are configured, librdkafka's mock cluster
/// started in this process (the embedded default: real Kafka protocol, events held in memory only).
/// </summary>
public sealed class KafkaConnection : IDisposable
{
    private readonly MockCluster? _embedded;

    public KafkaConnection(IOptions<KafkaOptions> options, ILogger<KafkaConnection> logger)
    {
        var kafka = options.Value;
        if (!string.IsNullOrWhiteSpace(kafka.BootstrapServers))
        {
            BootstrapServers = kafka.BootstrapServers;
            return;
        }

        _embedded = MockCluster.Start(brokers: 1, kafka.Topic, kafka.MockPartitions);
        BootstrapServers = _embedded.BootstrapServers;
        logger.LogWarning(
            "No Kafka:BootstrapServers configured: started librdkafka's in-process MOCK Kafka cluster at {Bootstrap}. " +
            "Delivered events live in memory only and are gone when this process exits. Set Kafka:BootstrapServers for real use.",
            BootstrapServers);
    }

    public string BootstrapServers { get; }

    /// <summary>True when this process hosts its own mock cluster.</summary>
    public bool IsEmbedded => _embedded is not null;

    public void Dispose() => _embedded?.Dispose();
}
