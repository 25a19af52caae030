using System.ComponentModel.DataAnnotations;

namespace AkkaCollector.Publishing;

/// <summary>Operator settings for delivery to Kafka (.NET configuration section "Kafka").</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    /// <summary>Kafka bootstrap servers. Empty: the collector starts librdkafka's mock cluster in process (events live in memory only).</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>
    /// Topic every event is written to. Kafka's own rule for a name, checked at start: a name a broker refuses would
    /// leave every event in the spool, delivery failing until the spool fills.
    /// </summary>
    [Required]
    [RegularExpression(@"^(?!\.{1,2}$)[a-zA-Z0-9._-]{1,249}$", ErrorMessage = "not a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and not . or ..")]
    public string Topic { get; set; } = "events";

    /// <summary>Partitions of the in-process mock's topic (embedded mode only). The mock keeps only the newest 5 MiB per partition.</summary>
    [Range(1, 1024)]
    public int MockPartitions { get; set; } = 32;

    /// <summary>
    /// Port on 127.0.0.1 where the in-process mock is reached (embedded mode only), so kcat and consumers find it at
    /// the same address every start. When the port is taken (another collector runs), the mock's own random port is
    /// used and the log says so. 0: always the random port.
    /// </summary>
    [Range(0, 65535)]
    public int MockPort { get; set; } = 9092;

    /// <summary>How long librdkafka keeps retrying one record before it reports a failure; the spooler then sends the batch again.</summary>
    [Range(1000, int.MaxValue)]
    public int MessageTimeoutMs { get; set; } = 300_000;

    /// <summary>How long the producer waits to fill a batch: a few ms of latency buys far fewer requests to the brokers.</summary>
    [Range(0, 1000)]
    public int LingerMs { get; set; } = 5;

    /// <summary>Compression of record batches: none, gzip, snappy, lz4, zstd.</summary>
    [RegularExpression("^(none|gzip|snappy|lz4|zstd)$", ErrorMessage = "must be one of none, gzip, snappy, lz4, zstd")]
    public string Compression { get; set; } = "lz4";
}
