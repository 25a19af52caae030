using System.Text.Json;

namespace AkkaCollector.Ingress;

/// <summary>The API a request came in through: one Segment call, a Segment batch, or Heap's server-side track.</summary>
public enum IngressRoute
{
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
    Batch,
    HeapTrack,
}

/// <summary>
/// One event that passed validation, still pointing into the request's JSON document, with what the parser found in
/// it for the writer, so that the writer neither looks these fields up again nor parses a date a second time.
/// </summary>
/// <param name="Source">The event object as the producer sent it.</param>
/// <param name="Type">track, identify, page, screen, group or alias.</param>
/// <param name="MessageId">The producer's messageId (Heap: idempotency_key), or null when one must be assigned.</param>
/// <param name="PartitionKey">userId, else anonymousId (Heap: identity).</param>
public readonly record struct ParsedEvent(JsonElement Source, string Type, string? MessageId, string PartitionKey)
{
    /// <summary>The event's own context as sent (merged only when it is an object), or Undefined.</summary>
    public JsonElement Context { get; init; }

    /// <summary>
    /// The client's time of the event (originalTimestamp if sent, else timestamp) when Segment's clock-skew rule
    /// applies, i.e. a sentAt came too (the event's own, else its batch's); Undefined otherwise.
    /// </summary>
    public JsonElement ClientTime { get; init; }

    /// <summary>sentAt minus <see cref="ClientTime"/>, in ticks: how long the event waited on the client before it was sent.</summary>
    public long WaitedTicks { get; init; }

    /// <summary>The event has a property named sentAt, even a JSON null one: its batch's sentAt is not added beside it.</summary>
    public bool NamesSentAt { get; init; }
}

/// <summary>A request whose every event is valid. Owns the JSON document its events point into: dispose it after writing them.</summary>
public sealed class ParsedRequest : IDisposable
{
    private readonly JsonDocument _document;

    internal ParsedRequest(JsonDocument document, string writeKey, bool heap, ParsedEvent[] events, JsonElement batchContext, JsonElement batchSentAt)
    {
        _document = document;
        WriteKey = writeKey;
        IsHeap = heap;
        Events = events;
        BatchContext = batchContext;
        BatchSentAt = batchSentAt;
    }

    public string WriteKey { get; }

    /// <summary>The events came through Heap's API: identity becomes userId, app_id and idempotency_key are not copied.</summary>
    public bool IsHeap { get; }

    public IReadOnlyList<ParsedEvent> Events { get; }

    /// <summary>A Segment batch's own context (an object), or Undefined; merged under each event's context.</summary>
    public JsonElement BatchContext { get; }

    /// <summary>A Segment batch's own sentAt, or Undefined; given to events that carry none.</summary>
    public JsonElement BatchSentAt { get; }

    public void Dispose() => _document.Dispose();
}
