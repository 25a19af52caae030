using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace AkkaCollector.Rig.Bench;

/// <summary>What the raw producer reached: records confirmed per second, and its latency from produce to delivery report.</summary>
public sealed record ProducerResult(long Delivered, long Failed, TimeSpan Elapsed, TimeSpan Cpu, double P50Ms, double P99Ms)
{
    public double PerSecond => Delivered / Elapsed.TotalSeconds;
}

/// <summary>
/// The Kafka ceiling: one Confluent.Kafka producer in this process, configured as the collector's (acks=all,
/// idempotent, linger 5 ms, lz4, the same record shape: key, the event JSON, three headers), writing the benchmark's
/// events into the same mock cluster as fast as librdkafka takes them. Nothing else happens per record, so the
/// collector's end-to-end rate is compared with what Kafka and its client allow on this machine.
/// </summary>
public static class ProducerCeiling
{
    private static readonly byte[] WriteKey = Encoding.UTF8.GetBytes("rig_wk_0000");
    private static readonly byte[] Type = Encoding.UTF8.GetBytes("track");

    /// <summary>Produces up to <paramref name="count"/> records (or for <paramref name="bound"/>), then waits for every delivery report.</summary>
    public static ProducerResult Run(string bootstrapServers, string topic, IReadOnlyList<byte[]> payloads, long count, TimeSpan bound)
    {
        using var producer = Build(bootstrapServers);
        var latency = new HdrHistogram.LongConcurrentHistogram(1, 60_000_000, 3);
        long delivered = 0, failed = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long sent = 0;
        for (; sent < count && clock.Elapsed < bound; sent++)
        {
            var started = Stopwatch.GetTimestamp();
            var message = Record($"user-{sent % 10_000}", payloads[(int)(sent % payloads.Count)], $"ceiling-{sent}");
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, report =>
                    {
                        if (report.Error.IsError)
                            Interlocked.Increment(ref failed);
                        else
                            latency.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                        Interlocked.Increment(ref delivered);
                    });
                    break;
                }
                catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        producer.Flush(TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var ok = Interlocked.Read(ref delivered) - Interlocked.Read(ref failed);
        return new ProducerResult(ok, Interlocked.Read(ref failed), elapsed, cpu,
            latency.GetValueAtPercentile(50) / 1000.0, latency.GetValueAtPercentile(99) / 1000.0);
    }

    /// <summary>A producer configured as the collector's; the bench's durable floor (<see cref="DurableFloor"/>) uses it too.</summary>
    internal static IProducer<string, byte[]> Build(string bootstrapServers) =>
        new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            CompressionType = CompressionType.Lz4,
            QueueBufferingMaxMessages = 2_000_000,
            QueueBufferingMaxKbytes = 1_048_576,
            BatchNumMessages = 10_000,
            // As the collector: reports carry the status only (the default copies key, value and headers back per record).
            DeliveryReportFields = "status",
        }).SetLogHandler((_, _) => { }).Build();

    /// <summary>A record of the collector's shape: key, the event JSON, and its messageId, writeKey and type headers.</summary>
    internal static Message<string, byte[]> Record(string key, byte[] value, string messageId) => new()
    {
        Key = key,
        Value = value,
        Headers = new Headers { { "messageId", Encoding.UTF8.GetBytes(messageId) }, { "writeKey", WriteKey }, { "type", Type } },
    };
}
