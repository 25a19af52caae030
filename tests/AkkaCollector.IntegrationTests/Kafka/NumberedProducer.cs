using System.Collections.Concurrent;
using System.Text;
using AkkaCollector.Testing.Kafka;
using Confluent.Kafka;

namespace AkkaCollector.IntegrationTests.Kafka;

/// <summary>
/// An idempotent acks=all producer writing records numbered m-0, m-1, ... in a messageId header (and, given one, the
/// spool header a collector's records carry), counting delivery reports.
/// </summary>
internal sealed class NumberedProducer : IDisposable
{
    private readonly IProducer<Null, byte[]> _producer;
    private readonly string _topic;
    private readonly byte[] _value = new byte[300];
    private readonly byte[]? _spool;
    private readonly ConcurrentQueue<ErrorCode> _failures = new();
    private int _next;
    private int _delivered;

    internal NumberedProducer(string bootstrapServers, string topic, int messageTimeoutMs = 30_000, string? spool = null)
    {
        _topic = topic;
        _spool = spool is null ? null : Encoding.UTF8.GetBytes(spool);
        _producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            MessageTimeoutMs = messageTimeoutMs,
        }).SetLogHandler((_, _) => { }).Build();
    }

    internal int Sent => Volatile.Read(ref _next);

    internal int Delivered => Volatile.Read(ref _delivered);

    internal IReadOnlyCollection<ErrorCode> Failures => _failures.ToArray();

    internal static string IdOf(int number) => $"m-{number}";

    /// <summary>Queues <paramref name="count"/> more numbered records without waiting for delivery.</summary>
    internal void Produce(int count)
    {
        for (var i = 0; i < count; i++)
            _producer.Produce(_topic, Next(), OnDelivery);
    }

    /// <summary>Produces one numbered record and completes with its delivery report.</summary>
    internal Task<DeliveryResult<Null, byte[]>> ProduceOneAsync() => _producer.ProduceAsync(_topic, Next());

    /// <summary>Waits until every queued record has a delivery report; false if some are still in flight.</summary>
    internal bool Flush(TimeSpan timeout) => _producer.Flush(timeout) == 0;

    public void Dispose() => _producer.Dispose();

    private Message<Null, byte[]> Next()
    {
        var headers = new Headers { { TopicAudit.MessageIdHeader, Encoding.UTF8.GetBytes(IdOf(Interlocked.Increment(ref _next) - 1)) } };
        if (_spool is not null)
            headers.Add(TopicAudit.SpoolHeader, _spool);
        return new Message<Null, byte[]> { Value = _value, Headers = headers };
    }

    private void OnDelivery(DeliveryReport<Null, byte[]> report)
    {
        if (report.Error.IsError)
            _failures.Enqueue(report.Error.Code);
        else
            Interlocked.Increment(ref _delivered);
    }
}
