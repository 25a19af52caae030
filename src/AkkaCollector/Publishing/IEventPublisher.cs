namespace AkkaCollector.Publishing;

/// <summary>Hands a batch of events to Kafka and says, once, how Kafka answered for the whole batch.</summary>
public interface IEventPublisher
{
    /// <summary>
    /// Produces every event of the batch, each record carrying <paramref name="spool"/> as its spool header;
    /// <paramref name="answered"/> runs once Kafka has answered for all of them (on the producer's thread, so it must
    /// only hand the answer on).
    /// </summary>
    void Publish(IReadOnlyList<IPublishableEvent> events, string spool, BatchAnswered answered);

    /// <summary>Records handed over that Kafka has not answered for yet (confirmed or failed).</summary>
    int Unanswered { get; }
}

/// <summary>
/// Kafka's answer for a whole batch: <paramref name="error"/> is null when every event was confirmed;
/// <paramref name="confirmed"/> says where the confirmed records landed (also when some failed).
/// </summary>
public delegate void BatchAnswered(string? error, KafkaPositions confirmed);

/// <summary>What a Kafka record is made of: key, value and headers (<see cref="KafkaPublisher"/> names them).</summary>
public interface IPublishableEvent
{
    string MessageId { get; }
    string WriteKey { get; }
    string PartitionKey { get; }
    string Type { get; }
    byte[] Payload { get; }
    bool Unverified { get; }
}

/// <summary>
/// Positions in the topic, per Kafka partition: the offset just past a record known to be there. A record produced
/// after the positions were known lands at or beyond them (Kafka appends), so they bound where to look for it.
/// Immutable: a snapshot can be kept as it is.
/// </summary>
public sealed class KafkaPositions
{
    public static readonly KafkaPositions None = new(new Dictionary<int, long>());

    private readonly Dictionary<int, long> _next;

    private KafkaPositions(Dictionary<int, long> next) => _next = next;

    /// <summary>Per partition, the offset just past a known record. A partition not listed: nothing known, look from its start.</summary>
    public IReadOnlyDictionary<int, long> Next => _next;

    public static KafkaPositions Of(IEnumerable<KeyValuePair<int, long>> next) => new(new Dictionary<int, long>(next));

    /// <summary>The further of the two positions, per partition (this instance when <paramref name="other"/> adds nothing).</summary>
    public KafkaPositions Max(KafkaPositions other)
    {
        Dictionary<int, long>? merged = null;
        foreach (var (partition, next) in other._next)
        {
            if (_next.TryGetValue(partition, out var known) && known >= next)
                continue;
            merged ??= new Dictionary<int, long>(_next);
            merged[partition] = next;
        }
        return merged is null ? this : new KafkaPositions(merged);
    }

    public override string ToString() => string.Join(' ', _next.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"));
}
