using System.Diagnostics;
using System.Text;
using AkkaCollector.LiveEvents;
using AkkaCollector.Observability;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AkkaCollector.Publishing;

/// <summary>
/// Delivers spooled events with one shared idempotent producer (acks=all): records keyed by user, the event JSON
/// as value, messageId / writeKey / type / spool (and "unverified" when the app registry could not be asked) as headers.
/// Each batch's answer says where its confirmed records landed (partition and offset come with every delivery report,
/// whatever DeliveryReportFields asks for), so the spool can record how far its delivery got.
/// </summary>
public sealed class KafkaPublisher : IEventPublisher, IDisposable
{
    public const string MessageIdHeader = "messageId";
    public const string WriteKeyHeader = "writeKey";
    public const string TypeHeader = "type";
    public const string UnverifiedHeader = "unverified";
    /// <summary>The spool that delivered the record (its persistence id): what a read-back after a crash looks for.</summary>
    public const string SpoolHeader = "spool";

    private static readonly Header Unverified = new(UnverifiedHeader, [1]);

    private readonly IProducer<string, byte[]> _producer;
    // Every record goes to the topic's partitioner (Partition.Any); one instance serves them all, where
    // Produce(string topic, ...) would make one per record.
    private readonly TopicPartition _topic;
    private readonly ILogger<KafkaPublisher> _logger;
    private readonly LiveEventsRecorder? _live;
    private int _unreachable;
    private int _unanswered;
    private int _closed;

    /// <param name="live">The live events view, marked as Kafka confirms events; null where nobody can look.</param>
    public KafkaPublisher(KafkaOptions options, string bootstrapServers, ILogger<KafkaPublisher> logger, LiveEventsRecorder? live = null)
    {
        _topic = new TopicPartition(options.Topic, Partition.Any);
        _logger = logger;
        _live = live;
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = options.LingerMs,
            MessageTimeoutMs = options.MessageTimeoutMs,
            CompressionType = Enum.Parse<CompressionType>(options.Compression, ignoreCase: true),
            // The spoolers bound what is handed over (MaxUnconfirmedEvents each); librdkafka's own queue must not be the tighter bound.
            QueueBufferingMaxMessages = 2_000_000,
            QueueBufferingMaxKbytes = 1_048_576,
            BatchNumMessages = 10_000,
            // A delivery report needs only its error: by default librdkafka hands key, value, headers and timestamp back too,
            // and Confluent.Kafka copies each into managed memory once per record.
            DeliveryReportFields = "status",
        };
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetErrorHandler(HandleClientError)
            .SetLogHandler((_, message) => _logger.LogDebug("librdkafka {Facility}: {Message}", message.Facility, message.Message))
            .Build();
    }

    public void Publish(IReadOnlyList<IPublishableEvent> events, string spool, BatchAnswered answered)
    {
        // Closed during shutdown: the batch stays unconfirmed in the journal and is delivered after the next start.
        if (Volatile.Read(ref _closed) == 1)
            return;
        Interlocked.Add(ref _unanswered, events.Count);
        var tracker = new BatchTracker(events, answered, this);
        // One delegate for the batch's records: the method group would make one per record.
        Action<DeliveryReport<string, byte[]>> report = tracker.HandleReport;
        // A batch's events come from one spool and a few apps and types: those headers are made once per batch and
        // shared by its records (a Header never changes, and librdkafka copies its bytes).
        var spoolHeader = new Header(SpoolHeader, Encoding.UTF8.GetBytes(spool));
        var writeKeyHeaders = new Dictionary<string, Header>();
        var typeHeaders = new Dictionary<string, Header>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var headers = new Headers
            {
                new Header(MessageIdHeader, Encoding.UTF8.GetBytes(e.MessageId)),
                HeaderOf(WriteKeyHeader, e.WriteKey, writeKeyHeaders),
                HeaderOf(TypeHeader, e.Type, typeHeaders),
                spoolHeader,
            };
            if (e.Unverified)
                headers.Add(Unverified);
            try
            {
                _producer.Produce(_topic, new Message<string, byte[]> { Key = e.PartitionKey, Value = e.Payload, Headers = headers }, report);
            }
            catch (ProduceException<string, byte[]> failure)
            {
                // Refused locally (queue full, too large): the rest of the batch is not sent; the batch is answered with the error and retried whole.
                tracker.FailRemaining(events.Count - i, failure.Error.Code.ToString());
                return;
            }
        }
    }

    /// <summary>The header <paramref name="name"/> with <paramref name="value"/>, made once per value in <paramref name="made"/> (one per name).</summary>
    private static Header HeaderOf(string name, string value, Dictionary<string, Header> made)
    {
        if (!made.TryGetValue(value, out var header))
            made[value] = header = new Header(name, Encoding.UTF8.GetBytes(value));
        return header;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for everything handed over to be confirmed; returns how many records are still outstanding.</summary>
    public int Flush(TimeSpan timeout) => _producer.Flush(timeout);

    public int Unanswered => Volatile.Read(ref _unanswered);

    /// <summary>Closes the producer once (shutdown closes it before the host disposes it); later publishes are ignored.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
            _producer.Dispose();
    }

    private void HandleClientError(IProducer<string, byte[]> producer, Error error)
    {
        // librdkafka reports "all brokers down" and similar as client errors; it keeps retrying by itself.
        if (error.Code == ErrorCode.Local_AllBrokersDown && Interlocked.Exchange(ref _unreachable, 1) == 0)
            _logger.LogWarning("Kafka unreachable ({Reason}); events stay in the spool until it returns", error.Reason);
        else if (error.IsFatal)
            _logger.LogCritical("Kafka producer fatal error {Code}: {Reason}", error.Code, error.Reason);
        else
            _logger.LogDebug("Kafka client error {Code}: {Reason}", error.Code, error.Reason);
    }

    private void NoteDelivered(IReadOnlyList<IPublishableEvent> events)
    {
        if (Interlocked.Exchange(ref _unreachable, 0) == 1)
            _logger.LogInformation("Kafka reachable again; delivering the spool");
        if (_live is { IsRecording: true })
        {
            foreach (var delivered in events)
                _live.MarkDelivered(delivered.MessageId);
        }
    }

    /// <summary>Counts one batch's delivery reports (they arrive on librdkafka's thread) and answers once, at the end.</summary>
    private sealed class BatchTracker(IReadOnlyList<IPublishableEvent> events, BatchAnswered answered, KafkaPublisher publisher)
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly Dictionary<int, long> _confirmed = new();
        private int _remaining = events.Count;
        private string? _error;

        public void HandleReport(DeliveryReport<string, byte[]> report)
        {
            if (report.Error.IsError)
            {
                CollectorMetrics.KafkaDeliveryErrors.WithLabels(report.Error.Code.ToString()).Inc();
                Interlocked.CompareExchange(ref _error, $"{report.Error.Code}: {report.Error.Reason}", null);
            }
            else
            {
                CollectorMetrics.KafkaDeliverySeconds.Observe(Stopwatch.GetElapsedTime(_started).TotalSeconds);
                lock (_confirmed)
                {
                    var partition = report.Partition.Value;
                    if (!_confirmed.TryGetValue(partition, out var next) || next <= report.Offset.Value)
                        _confirmed[partition] = report.Offset.Value + 1;
                }
            }
            Complete(1);
        }

        public void FailRemaining(int remaining, string code)
        {
            CollectorMetrics.KafkaDeliveryErrors.WithLabels(code).Inc(remaining);
            Interlocked.CompareExchange(ref _error, code, null);
            Complete(remaining);
        }

        private void Complete(int reports)
        {
            Interlocked.Add(ref publisher._unanswered, -reports);
            if (Interlocked.Add(ref _remaining, -reports) != 0)
                return;
            if (_error is null)
                publisher.NoteDelivered(events);
            KafkaPositions confirmed;
            lock (_confirmed)
                confirmed = KafkaPositions.Of(_confirmed);
            answered(_error, confirmed);
        }
    }
}
