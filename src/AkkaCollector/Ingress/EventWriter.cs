using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using AkkaCollector.Lookups;
using AkkaCollector.Spooling;

namespace AkkaCollector.Ingress;

/// <summary>What the collector adds to every event of one request.</summary>
/// <param name="ReceivedAt">The server's clock when the request arrived.</param>
/// <param name="ClientAddress">The resolved client address; null when the server does not know its peer.</param>
/// <param name="Geo">Where the client is, from the lookups; null when unknown.</param>
/// <param name="Unverified">The app registry could not be asked.</param>
/// <param name="UserAgent">The request's User-Agent header, for events whose context has no userAgent; null when absent or empty.</param>
public sealed record Enrichment(DateTimeOffset ReceivedAt, IPAddress? ClientAddress, GeoLocation? Geo, bool Unverified, string? UserAgent = null);

/// <summary>
/// Writes each validated event as the JSON that is journaled and becomes the Kafka record value: the producer's own
/// fields copied as sent, then what the collector knows better. <c>type</c> is the route's (or batch item's);
/// <c>messageId</c> is the producer's or a new time-ordered UUIDv7; <c>receivedAt</c> is the server clock;
/// <c>context.ip</c> and <c>context.location</c> are the address the collector resolved (the one rate limits and geo
/// used) and its location, replacing what the producer claimed, which stays only when the collector knows nothing better.
/// A batch's context is merged under each event's context (key by key; the event's own keys win) and its sentAt fills
/// an event's missing sentAt. The write key is not copied: it travels beside the payload, not inside it.
/// <c>context.userAgent</c> comes from the User-Agent header when neither the event's nor the batch's context has one.
/// Clock skew is corrected as Segment does when the event has a sentAt (its own, else its batch's) and a client time
/// (<c>originalTimestamp</c> if sent, else <c>timestamp</c>): the client time is kept as <c>originalTimestamp</c> and
/// <c>timestamp = receivedAt - (sentAt - originalTimestamp)</c>, the time it happened on the server's clock. Without
/// sentAt (server SDKs importing history, Heap) the client's timestamp stays as sent.
/// Heap events take Segment's shape (identity becomes userId) so that one topic has one schema.
/// </summary>
public static class EventWriter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The payload goes to Kafka consumers, not into HTML: keep non-ASCII text readable instead of \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static SpooledEvent[] Write(ParsedRequest request, Enrichment enrichment)
    {
        var receivedAt = enrichment.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var ip = enrichment.ClientAddress?.ToString();
        var (buffer, writer) = ThreadWriter();
        var spooled = new SpooledEvent[request.Events.Count];
        for (var i = 0; i < spooled.Length; i++)
        {
            var parsed = request.Events[i];
            var messageId = parsed.MessageId ?? MessageIds.NewVersion7(enrichment.ReceivedAt);
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            WriteEvent(writer, request, parsed, messageId, receivedAt, enrichment, ip);
            writer.Flush();
            spooled[i] = new SpooledEvent(messageId, request.WriteKey, parsed.PartitionKey, parsed.Type, buffer.WrittenSpan.ToArray(), enrichment.Unverified);
        }
        // One huge event must not leave every pool thread holding a buffer its size.
        if (buffer.Capacity > MaxKeptBufferBytes)
            _threadWriter = null;
        return spooled;
    }

    // Write is synchronous, so each thread can keep one buffer and writer: a request then allocates only its
    // payloads, not a 4 KB buffer and a writer of its own (that was more than the payload of a single event).
    private const int MaxKeptBufferBytes = 64 * 1024;

    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? _threadWriter;

    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer) ThreadWriter()
    {
        if (_threadWriter is { } cached)
            return cached;
        var buffer = new ArrayBufferWriter<byte>(4096);
        _threadWriter = (buffer, new Utf8JsonWriter(buffer, WriterOptions));
        return _threadWriter.Value;
    }

    private static void WriteEvent(Utf8JsonWriter writer, ParsedRequest request, ParsedEvent parsed, string messageId, string receivedAt, Enrichment enrichment, string? ip)
    {
        var corrected = TryCorrectClock(parsed, enrichment.ReceivedAt, out var timestamp);
        writer.WriteStartObject();
        writer.WriteString("type"u8, parsed.Type);
        writer.WriteString("messageId"u8, messageId);
        if (request.IsHeap)
            writer.WriteString("userId"u8, parsed.PartitionKey);
        foreach (var property in parsed.Source.EnumerateObject())
        {
            var name = EventParser.UnescapedName(property);
            if (!IsReplaced(name, request.IsHeap) && !(corrected && IsClientTime(name)))
                Copy(writer, name, property.Value);
        }
        if (request.BatchSentAt.ValueKind != JsonValueKind.Undefined && !parsed.NamesSentAt)
        {
            writer.WritePropertyName("sentAt"u8);
            Copy(writer, request.BatchSentAt);
        }
        if (corrected)
        {
            writer.WritePropertyName("originalTimestamp"u8);
            Copy(writer, parsed.ClientTime);
            writer.WriteString("timestamp"u8, timestamp);
        }
        writer.WriteString("receivedAt"u8, receivedAt);
        WriteContext(writer, request.BatchContext, parsed.Context, ip, enrichment.Geo, enrichment.UserAgent);
        writer.WriteEndObject();
    }

    /// <summary>
    /// Segment's clock-skew rule: with a sentAt (the event's, else its batch's) and a client time (originalTimestamp,
    /// else timestamp), <paramref name="timestamp"/> = receivedAt - (sentAt - client time), in UTC. False (nothing to
    /// correct) without either, which EventParser found, or when the difference would leave the calendar.
    /// </summary>
    private static bool TryCorrectClock(ParsedEvent parsed, DateTimeOffset receivedAt, out DateTime timestamp)
    {
        timestamp = default;
        if (parsed.ClientTime.ValueKind == JsonValueKind.Undefined)
            return false;
        // In ticks, so a client clock decades off cannot throw: such an event keeps its own timestamp.
        var ticks = receivedAt.UtcTicks - parsed.WaitedTicks;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
            return false;
        timestamp = new DateTime(ticks, DateTimeKind.Utc);
        return true;
    }

    private static bool IsClientTime(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("timestamp"u8) || name.SequenceEqual("originalTimestamp"u8);

    private static void WriteContext(Utf8JsonWriter writer, JsonElement batchContext, JsonElement eventContext, string? ip, GeoLocation? geo, string? userAgent)
    {
        writer.WriteStartObject("context"u8);
        if (batchContext.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in batchContext.EnumerateObject())
            {
                var name = EventParser.UnescapedName(property);
                if (!Has(eventContext, name) && !IsEnriched(name, ip, geo))
                    Copy(writer, name, property.Value);
            }
        }
        if (eventContext.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in eventContext.EnumerateObject())
            {
                var name = EventParser.UnescapedName(property);
                if (!IsEnriched(name, ip, geo))
                    Copy(writer, name, property.Value);
            }
        }
        if (userAgent is not null && !Has(eventContext, "userAgent"u8) && !Has(batchContext, "userAgent"u8))
            writer.WriteString("userAgent"u8, userAgent);
        if (ip is not null)
            writer.WriteString("ip"u8, ip);
        if (geo is not null)
            WriteLocation(writer, geo);
        writer.WriteEndObject();
    }

    private static bool Has(JsonElement context, ReadOnlySpan<byte> name) =>
        context.ValueKind == JsonValueKind.Object && context.TryGetProperty(name, out _);

    // The producer's values are copied as the raw JSON text they came in, not re-encoded token by token: EventParser
    // has checked the whole body (well-formed JSON, valid UTF-8, no \u escape naming half a surrogate pair), so the
    // text is valid as it is, and re-encoding it was a third of writing an event (docs/benchmark.md, issue 18's tenth
    // round). Whitespace inside a producer's objects and its \u escapes stay as sent; they mean the same JSON.
    // The name goes through the writer unescaped (EventParser.UnescapedName), which escapes it as it must: a raw name
    // with escapes would have its backslashes escaped again.
    private static void Copy(Utf8JsonWriter writer, ReadOnlySpan<byte> name, JsonElement value)
    {
        writer.WritePropertyName(name);
        Copy(writer, value);
    }

    private static void Copy(Utf8JsonWriter writer, JsonElement value) =>
        writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);

    private static void WriteLocation(Utf8JsonWriter writer, GeoLocation geo)
    {
        writer.WriteStartObject("location"u8);
        WriteIfKnown(writer, "city"u8, geo.City);
        WriteIfKnown(writer, "region"u8, geo.Region);
        WriteIfKnown(writer, "countryCode"u8, geo.CountryCode);
        if (geo.Latitude is { } latitude)
            writer.WriteNumber("latitude"u8, latitude);
        if (geo.Longitude is { } longitude)
            writer.WriteNumber("longitude"u8, longitude);
        WriteIfKnown(writer, "timeZone"u8, geo.TimeZone);
        writer.WriteEndObject();
    }

    private static void WriteIfKnown(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
            writer.WriteString(name, value);
    }

    // Written by the collector itself (or, for the write key, not written at all). A name is compared as the bytes it
    // is read into once per property: JsonProperty.NameEquals would find it in the document anew for each of up to
    // nine comparisons (docs/benchmark.md, issue 18's eleventh round).
    private static bool IsReplaced(ReadOnlySpan<byte> name, bool heap) =>
        name.SequenceEqual("type"u8) || name.SequenceEqual("messageId"u8) || name.SequenceEqual("receivedAt"u8)
        || name.SequenceEqual("context"u8) || name.SequenceEqual("writeKey"u8)
        || (heap && (name.SequenceEqual("app_id"u8) || name.SequenceEqual("identity"u8)
                     || name.SequenceEqual("idempotency_key"u8) || name.SequenceEqual("userId"u8)));

    private static bool IsEnriched(ReadOnlySpan<byte> name, string? ip, GeoLocation? geo) =>
        (ip is not null && name.SequenceEqual("ip"u8)) || (geo is not null && name.SequenceEqual("location"u8));
}
