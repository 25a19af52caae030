using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Publishing;

/// <summary>Operator settings for delivery to Kafka (.NET configuration section "Kafka").</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    /// <summary>
    /// Kafka bootstrap servers: host:port entries separated by commas, as librdkafka reads them (a host without a port
    /// means 9092; a <c>[v6]</c> address and a <c>protocol://</c> prefix are allowed). Checked at start: a list librdkafka
    /// cannot use would look like a Kafka outage, every event spooled until the spool fills. Empty: the collector starts
    /// librdkafka's mock cluster in process (events live in memory only).
    /// </summary>
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

/// <summary>Refuses to start with bootstrap servers librdkafka could never connect to, naming the entry.</summary>
internal sealed partial class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.BootstrapServers))
            return ValidateOptionsResult.Success;
        var failures = options.BootstrapServers.Split(',', StringSplitOptions.TrimEntries)
            .Where(entry => !IsBroker(entry))
            .Select(entry => $"Kafka:BootstrapServers = '{options.BootstrapServers}': '{entry}' is not a broker's host:port (port 1-65535), separated from the next by a comma")
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsBroker(string entry) =>
        Broker().Match(entry) is { Success: true } broker
        && (!broker.Groups["port"].Success || int.Parse(broker.Groups["port"].Value, CultureInfo.InvariantCulture) is >= 1 and <= 65535);

    [GeneratedRegex(@"^(?:[A-Za-z_]+://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::(?<port>[0-9]{1,5}))?$")]
    private static partial Regex Broker();
}
