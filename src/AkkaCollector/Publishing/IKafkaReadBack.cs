namespace AkkaCollector.Publishing;

/// <summary>Reads back from the topic which events a spool has already delivered, so that they are not sent twice.</summary>
public interface IKafkaReadBack
{
    /// <summary>
    /// Reads every partition of the topic from <paramref name="from"/> (a partition not listed: from its start) to its
    /// end, and returns the identities of the records whose spool header is <paramref name="spool"/>, and of any other
    /// spool's records whose identity is one of <paramref name="sought"/>, with the ends read to. <paramref name="from"/>
    /// null: nothing is read, only the ends are returned.
    /// </summary>
    /// <remarks>
    /// Another spool's copy of an event is that same event, in Kafka already: a request a killed collector had stored but
    /// not answered, which the load balancer replayed on another collector, or a producer's retry that reached another one.
    /// </remarks>
    Task<KafkaReadBackResult> ReadAsync(string spool, KafkaPositions? from, IReadOnlySet<RecordId> sought, CancellationToken cancellationToken);
}

/// <summary>
/// What a read-back found: the records it looked for, how many of them another spool had sent, the topic's ends when it
/// was read, and how many records it read.
/// </summary>
public sealed record KafkaReadBackResult(IReadOnlySet<RecordId> Records, int FromOtherSpools, KafkaPositions End, long RecordsRead);

/// <summary>An event's identity in the topic: a messageId is unique per app, so two write keys may each use the same one.</summary>
public readonly record struct RecordId(string WriteKey, string MessageId);
