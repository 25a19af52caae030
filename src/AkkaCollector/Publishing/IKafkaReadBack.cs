namespace AkkaCollector.Publishing;

/// <summary>Reads back from the topic which events a spool has already delivered, so that they are not sent twice.</summary>
public interface IKafkaReadBack
{
    /// <summary>
    /// Reads every partition of the topic from <paramref name="from"/> (a partition not listed: from its start) to its
    /// end, and returns the messageIds of the records whose spool header is <paramref name="spool"/>, with the ends
    /// read to. <paramref name="from"/> null: nothing is read, only the ends are returned.
    /// </summary>
    Task<KafkaReadBackResult> ReadAsync(string spool, KafkaPositions? from, CancellationToken cancellationToken);
}

/// <summary>What a read-back found: the spool's messageIds, the topic's ends when it was read, and how many records it read.</summary>
public sealed record KafkaReadBackResult(IReadOnlySet<string> MessageIds, KafkaPositions End, long RecordsRead);
