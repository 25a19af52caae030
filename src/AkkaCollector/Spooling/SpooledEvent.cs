using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

/// <summary>One accepted event, ready to be journaled and published: the unit that flows from ingress to Kafka.</summary>
/// <param name="MessageId">The client's messageId or one assigned at ingress; stable across redeliveries so consumers can de-duplicate.</param>
/// <param name="WriteKey">The producer's write key (the app it belongs to).</param>
/// <param name="PartitionKey">userId, else anonymousId (Heap: identity): the Kafka record key, so one user's events stay in order.</param>
/// <param name="Type">track, identify, page, screen, group, alias (Segment) or track (Heap's server-side API).</param>
/// <param name="Payload">The enriched event as UTF-8 JSON (messageId, receivedAt, context.ip, geo added): the Kafka record value, byte for byte.</param>
/// <param name="Unverified">True when the app registry could not be asked (breaker open); carried as a Kafka header.</param>
public sealed record SpooledEvent(
    string MessageId,
    string WriteKey,
    string PartitionKey,
    string Type,
    byte[] Payload,
    bool Unverified = false) : IPublishableEvent;

/// <summary>What the spool says about a set of events handed to it.</summary>
public enum SpoolOutcome
{
    /// <summary>Every event is in the journal: the producer may be told 200.</summary>
    Stored,
    /// <summary>The spool is at its byte bound: nothing was stored; answer 503 with Retry-After.</summary>
    Full,
    /// <summary>The journal write failed: nothing can be assumed stored; answer 503 with Retry-After.</summary>
    Failed,
}

/// <summary>The durable spool as the HTTP side sees it: events in, an answer once they are on disk (or why not).</summary>
public interface IEventSpool
{
    Task<SpoolOutcome> SpoolAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken);
}
