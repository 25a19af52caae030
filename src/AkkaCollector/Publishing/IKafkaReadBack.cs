namespace AkkaCollector.Publishing;

/// <summary>Reads back from the topic which events a spool has already delivered, so that they are not sent twice.</summary>
public interface IKafkaReadBack
{
    /// <summary>
    /// Reads every partition of the topic from <paramref name="from"/> (a partition not listed: from its start) to its
    /// end, and returns the identities of the records whose spool header is <paramref name="spool"/>, with the ends
    /// read to. <paramref name="from"/> null: nothing is read, only the ends are returned.
    /// </summary>
    Task<KafkaReadBackResult> ReadAsync(string spool, KafkaPositions? from, CancellationToken cancellationToken);
}

/// <summary>What a read-back found: the spool's records, the topic's ends when it was read, and how many records it read.</summary>
public sealed record KafkaReadBackResult(IReadOnlySet<RecordId> Records, KafkaPositions End, long RecordsRead);

/// <summary>An event's identity in the topic: a messageId is unique per app, so two write keys may each use the same one.</summary>
public readonly record struct RecordId(string WriteKey, string MessageId);
