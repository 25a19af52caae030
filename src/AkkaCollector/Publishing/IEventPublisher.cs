namespace AkkaCollector.Publishing;

/// <summary>Hands a batch of events to Kafka and says, once, how Kafka answered for the whole batch.</summary>
public interface IEventPublisher
{
    /// <summary>
    /// Produces every event of the batch; <paramref name="answered"/> runs once Kafka has answered for all of them
    /// (on the producer's thread, so it must only hand the answer on).
    /// </summary>
    void Publish(IReadOnlyList<IPublishableEvent> events, BatchAnswered answered);
}

/// <summary>Kafka's answer for a whole batch: <paramref name="error"/> is null when every event was confirmed.</summary>
public delegate void BatchAnswered(string? error);

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
