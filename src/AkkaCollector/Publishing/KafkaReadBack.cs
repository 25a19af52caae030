using System.Text;
using AkkaCollector.Observability;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AkkaCollector.Publishing;

/// <summary>
/// Reads the topic back with a consumer of its own (assigned partitions, no group membership, nothing committed):
/// headers only, every partition from the given position to the end it had when the read began. A copy another spool
/// sent is found only if it reached Kafka before that end.
/// </summary>
public sealed class KafkaReadBack(KafkaOptions options, string bootstrapServers, ILogger<KafkaReadBack> logger) : IKafkaReadBack
{
    /// <summary>A read that takes longer fails: the spool asks again later, and hands nothing over meanwhile.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public Task<KafkaReadBackResult> ReadAsync(string spool, KafkaPositions? from, IReadOnlySet<RecordId> sought, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Read(spool, from, sought, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private KafkaReadBackResult Read(string spool, KafkaPositions? from, IReadOnlySet<RecordId> sought, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            // Required by the client; never joined (partitions are assigned) and nothing is committed.
            GroupId = "akkacollector-read-back",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 50,
        })
            .SetLogHandler((_, message) => logger.LogDebug("librdkafka read-back {Facility}: {Message}", message.Facility, message.Message))
            .SetErrorHandler((_, error) => logger.LogDebug("Kafka read-back client error {Code}: {Reason}", error.Code, error.Reason))
            .Build();

        var ends = new Dictionary<int, long>();
        var starts = new List<TopicPartitionOffset>();
        foreach (var partition in Partitions())
        {
            var topicPartition = new TopicPartition(options.Topic, partition);
            var watermarks = consumer.QueryWatermarkOffsets(topicPartition, RequestTimeout);
            ends[partition] = watermarks.High.Value;
            if (from is null)
                continue;
            // Records below the low watermark were removed by retention: nothing left to find there.
            var start = Math.Max(from.Next.TryGetValue(partition, out var next) ? next : 0, watermarks.Low.Value);
            if (start < watermarks.High.Value)
                starts.Add(new TopicPartitionOffset(topicPartition, start));
        }

        var found = new HashSet<RecordId>();
        var fromOtherSpools = 0;
        long records = 0;
        if (starts.Count > 0)
        {
            consumer.Assign(starts);
            var open = starts.Select(s => s.Partition.Value).ToHashSet();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(ReadTimeout);
            var spoolBytes = Encoding.UTF8.GetBytes(spool);
            while (open.Count > 0)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result is null)
                {
                    // Nothing more to read for now: a partition whose position has reached its end is done, even when
                    // its last offsets hold no record a consumer sees (another producer's transaction markers, compaction).
                    open.RemoveWhere(partition => consumer.Position(new TopicPartition(options.Topic, partition)).Value >= ends[partition]);
                    deadline.Token.ThrowIfCancellationRequested();
                    continue;
                }
                var partition = result.Partition.Value;
                if (result.Offset.Value < ends[partition])
                {
                    records++;
                    var headers = result.Message.Headers;
                    var ownSpool = headers.TryGetLastBytes(KafkaPublisher.SpoolHeader, out var recordSpool) && recordSpool.AsSpan().SequenceEqual(spoolBytes);
                    // Another spool's record is decoded only while some event is sought: a read-back for a spooler
                    // without undelivered events in memory costs what it did before.
                    if ((ownSpool || sought.Count > 0)
                        && headers.TryGetLastBytes(KafkaPublisher.MessageIdHeader, out var messageId)
                        && headers.TryGetLastBytes(KafkaPublisher.WriteKeyHeader, out var writeKey))
                    {
                        var id = new RecordId(Encoding.UTF8.GetString(writeKey), Encoding.UTF8.GetString(messageId));
                        if (ownSpool)
                            found.Add(id);
                        else if (sought.Contains(id) && found.Add(id))
                            fromOtherSpools++;
                    }
                }
                if (result.Offset.Value + 1 >= ends[partition])
                    open.Remove(partition);
                deadline.Token.ThrowIfCancellationRequested();
            }
            consumer.Close();
        }
        CollectorMetrics.KafkaReadBackRecords.Inc(records);
        return new KafkaReadBackResult(found, fromOtherSpools, KafkaPositions.Of(ends), records);
    }

    private IEnumerable<int> Partitions()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers })
            .SetLogHandler((_, _) => { })
            .Build();
        var topic = admin.GetMetadata(options.Topic, RequestTimeout).Topics.Single(t => t.Topic == options.Topic);
        if (topic.Error.IsError)
            throw new KafkaException(topic.Error);
        return topic.Partitions.Select(p => p.PartitionId).ToList();
    }
}
