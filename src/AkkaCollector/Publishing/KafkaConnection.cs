using System.Net.Sockets;
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
    private LoopbackForwarder? _forwarder;

    public KafkaConnection(IOptions<KafkaOptions> options, ILogger<KafkaConnection> logger)
    {
        var kafka = options.Value;
        if (!string.IsNullOrWhiteSpace(kafka.BootstrapServers))
        {
            BootstrapServers = kafka.BootstrapServers;
            return;
        }

        _embedded = MockCluster.Start(brokers: 1, kafka.Topic, kafka.MockPartitions);
        BootstrapServers = StableAddress(_embedded, kafka.MockPort, logger) ?? _embedded.BootstrapServers;
        logger.LogWarning(
            "No Kafka:BootstrapServers configured: started librdkafka's in-process MOCK Kafka cluster at {Bootstrap}. " +
            "Delivered events live in memory only and are gone when this process exits. Set Kafka:BootstrapServers for real use.",
            BootstrapServers);
    }

    // The mock listens on a random port librdkafka picks; a forwarder on the fixed port, advertised as the broker's
    // address, gives consumers the same address every start. Null when the port is off (0) or taken.
    private string? StableAddress(MockCluster embedded, int port, ILogger logger)
    {
        if (port == 0)
            return null;
        try
        {
            _forwarder = LoopbackForwarder.Start(port, MockControlProtocol.ParseEndPoint(embedded.BootstrapServers));
        }
        catch (SocketException taken) when (taken.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            logger.LogWarning("Kafka:MockPort {Port} on 127.0.0.1 is taken (another collector?): the embedded mock Kafka " +
                              "stays on its random address {Bootstrap}", port, embedded.BootstrapServers);
            return null;
        }
        embedded.SetBrokerHostPort(1, "127.0.0.1", port);
        return $"127.0.0.1:{port}";
    }

    public string BootstrapServers { get; }

    /// <summary>True when this process hosts its own mock cluster.</summary>
    public bool IsEmbedded => _embedded is not null;

    public void Dispose()
    {
        _forwarder?.Dispose();
        _embedded?.Dispose();
    }
}
