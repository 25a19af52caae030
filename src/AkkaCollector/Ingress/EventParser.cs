using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace AkkaCollector.Ingress;

/// <summary>
/// Turns a request body into validated events, or into the one precise reason it is refused, following Segment's HTTP
/// tracking API (/v1/track, identify, page, screen, group, alias, batch) and Heap's server-side track (/api/track).
/// A request is all or nothing: if any event in it is invalid the whole request is refused and nothing of it is
/// spooled, so a producer's retry after fixing it can never duplicate the events that were fine.
/// The write key comes from HTTP Basic auth (username, password empty) or the body's writeKey (Heap: app_id);
/// without one the answer is 401 "missing write key", as Segment answers.
/// </summary>
public static class EventParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private delegate IngressError? EventReader(JsonElement item, Location at, out ParsedEvent parsed);

    /// <param name="queryWriteKey">A write key the URL carried (RudderStack's beacon, the pixel API), used when neither Basic auth nor the body has one.</param>
    public static OrError<ParsedRequest> Parse(ReadOnlyMemory<byte> body, IngressRoute route, string? authorization, IngressOptions options, string? queryWriteKey = null)
    {
        if (body.IsEmpty)
            return IngressError.BadRequest("the request body is empty");
        // The JSON reader leaves invalid UTF-8 inside strings, and \u escapes naming half a surrogate pair, to be found
        // when a string is read: as exceptions, i.e. a 500 for a producer's mistake. Both are refused here, once.
        if (!Utf8.IsValid(body.Span))
            return IngressError.BadRequest("the body is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException e)
        {
            return IngressError.BadRequest($"the body is not valid JSON: {e.Message}");
        }
        if (HasLoneSurrogateEscape(body.Span))
        {
            document.Dispose();
            return IngressError.BadRequest("the body has a \\u escape naming half of a UTF-16 surrogate pair");
        }
        var parsed = ParseDocument(document, body.Length, route, authorization, options, queryWriteKey);
        if (!parsed.TryGetValue(out _, out _))
            document.Dispose();
        return parsed;
    }

    private static OrError<ParsedRequest> ParseDocument(JsonDocument document, int bodyLength, IngressRoute route, string? authorization, IngressOptions options, string? queryWriteKey)
    {
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            return IngressError.BadRequest("the body must be a JSON object");
        var heap = route == IngressRoute.HeapTrack;
        if (!ReadWriteKey(root, authorization, heap ? "app_id" : "writeKey", queryWriteKey).TryGetValue(out var writeKey, out var error))
            return error;

        ParsedEvent[] events;
        var batchContext = default(JsonElement);
        var batchSentAt = default(JsonElement);
        if (route == IngressRoute.Batch)
        {
            batchContext = Present(root, "context");
            batchSentAt = Present(root, "sentAt");
            if ((error = OptionalObject(batchContext, "context", Location.Root)) is not null
                || (error = OptionalTimestamp(batchSentAt, "sentAt", Location.Root, out var sentAt)) is not null)
                return error;
            var batchSent = sentAt?.Instant;
            error = ReadBatch(root, "batch", (JsonElement item, Location at, out ParsedEvent parsed) => ReadSegmentBatchItem(item, batchSent, at, out parsed), options, out events);
        }
        else if (heap && root.TryGetProperty("events", out _))
        {
            error = ReadBatch(root, "events", ReadHeapEvent, options, out events);
        }
        else if (bodyLength > options.MaxEventBytes)
        {
            events = [];
            error = EventTooLarge(Location.Root, options);
        }
        else
        {
            events = new ParsedEvent[1];
            error = heap
                ? ReadHeapEvent(root, Location.Root, out events[0])
                : ReadSegmentEvent(root, TypeOf(route), null, Location.Root, out events[0]);
        }
        return error ?? (OrError<ParsedRequest>)new ParsedRequest(document, writeKey, heap, events, batchContext, batchSentAt);
    }

    private static IngressError? ReadBatch(JsonElement root, string name, EventReader read, IngressOptions options, out ParsedEvent[] events)
    {
        events = [];
        if (!root.TryGetProperty(name, out var items) || items.ValueKind != JsonValueKind.Array)
            return IngressError.BadRequest($"{name} must be an array of events", name);
        var count = items.GetArrayLength();
        if (count == 0)
            return IngressError.BadRequest($"{name} is empty", name);
        if (count > options.MaxBatchEvents)
            return IngressError.BadRequest($"{name} has {count} events; at most {options.MaxBatchEvents} are accepted in one request", name);

        events = new ParsedEvent[count];
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            var at = new Location(name, index);
            if (JsonMarshal.GetRawUtf8Value(item).Length > options.MaxEventBytes)
                return EventTooLarge(at, options);
            if (item.ValueKind != JsonValueKind.Object)
                return IngressError.BadRequest("an event must be a JSON object", at.Path());
            if (read(item, at, out events[index]) is { } error)
                return error;
            index++;
        }
        return null;
    }

    private static IngressError? ReadSegmentBatchItem(JsonElement item, DateTimeOffset? batchSentAt, Location at, out ParsedEvent parsed)
    {
        parsed = default;
        if (!item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            return IngressError.BadRequest("type is required: track, identify, page, screen, group or alias", at.Path("type"));
        if (TypeNamed(type) is not { } typeName)
            return IngressError.BadRequest($"type '{type.GetString()}' is not one of track, identify, page, screen, group, alias", at.Path("type"));
        return ReadSegmentEvent(item, typeName, batchSentAt, at, out parsed);
    }

    /// <param name="batchSentAt">The sentAt of the batch the event came in, for an event without its own.</param>
    private static IngressError? ReadSegmentEvent(JsonElement item, string type, DateTimeOffset? batchSentAt, Location at, out ParsedEvent parsed)
    {
        parsed = default;
        string? messageId = null, userId = null, anonymousId = null;
        ProducerTime? timestamp = null, originalTimestamp = null, sentAt = null;
        var fields = SegmentFields.Of(item);
        var error = OptionalString(fields.MessageId, "messageId", at, out messageId)
            ?? OptionalString(fields.UserId, "userId", at, out userId)
            ?? OptionalString(fields.AnonymousId, "anonymousId", at, out anonymousId)
            ?? OptionalObject(fields.Properties, "properties", at)
            ?? OptionalObject(fields.Traits, "traits", at)
            ?? OptionalObject(fields.Context, "context", at)
            ?? OptionalObject(fields.Integrations, "integrations", at)
            ?? OptionalTimestamp(fields.Timestamp, "timestamp", at, out timestamp)
            ?? OptionalTimestamp(fields.OriginalTimestamp, "originalTimestamp", at, out originalTimestamp)
            ?? OptionalTimestamp(fields.SentAt, "sentAt", at, out sentAt)
            ?? type switch
            {
                "track" => RequiredString(fields.Event, "event", at, out _),
                "group" => RequiredString(fields.GroupId, "groupId", at, out _),
                "alias" => RequiredString(fields.PreviousId, "previousId", at, out _) ?? RequiredString(fields.UserId, "userId", at, out _),
                "page" or "screen" => OptionalString(fields.Name, "name", at, out _),
                _ => null,
            };
        if (error is not null)
            return error;
        if ((userId ?? anonymousId) is not { } partitionKey)
            return IngressError.BadRequest("userId or anonymousId is required", at.Path("userId"));
        parsed = WithClock(new ParsedEvent(item, type, messageId, partitionKey) { Context = fields.Context, NamesSentAt = fields.NamesSentAt },
            originalTimestamp ?? timestamp, sentAt?.Instant ?? batchSentAt);
        return null;
    }

    /// <summary>
    /// The fields of a Segment event the parser checks, found in one pass over the event's properties. Looked up one
    /// by one, by name, they scanned the event a dozen times and encoded each name anew, which cost 5-7 % of parsing
    /// and writing an event (docs/benchmark.md, issue 18's tenth round). As with a lookup by name, the last of a
    /// repeated name wins and JSON null is absent (<see cref="Present"/>).
    /// </summary>
    private struct SegmentFields
    {
        public JsonElement MessageId, UserId, AnonymousId, Properties, Traits, Context, Integrations;
        public JsonElement Timestamp, OriginalTimestamp, SentAt, Event, GroupId, PreviousId, Name;
        public bool NamesSentAt;

        public static SegmentFields Of(JsonElement item)
        {
            var fields = new SegmentFields();
            foreach (var property in item.EnumerateObject())
            {
                var value = property.Value.ValueKind == JsonValueKind.Null ? default : property.Value;
                var name = UnescapedName(property);
                // By length first: most names an event carries match none, and are told apart by their length alone.
                switch (name.Length)
                {
                    case 4 when name.SequenceEqual("name"u8): fields.Name = value; break;
                    case 5 when name.SequenceEqual("event"u8): fields.Event = value; break;
                    case 6 when name.SequenceEqual("userId"u8): fields.UserId = value; break;
                    case 6 when name.SequenceEqual("traits"u8): fields.Traits = value; break;
                    case 6 when name.SequenceEqual("sentAt"u8): fields.SentAt = value; fields.NamesSentAt = true; break;
                    case 7 when name.SequenceEqual("context"u8): fields.Context = value; break;
                    case 7 when name.SequenceEqual("groupId"u8): fields.GroupId = value; break;
                    case 9 when name.SequenceEqual("messageId"u8): fields.MessageId = value; break;
                    case 9 when name.SequenceEqual("timestamp"u8): fields.Timestamp = value; break;
                    case 10 when name.SequenceEqual("properties"u8): fields.Properties = value; break;
                    case 10 when name.SequenceEqual("previousId"u8): fields.PreviousId = value; break;
                    case 11 when name.SequenceEqual("anonymousId"u8): fields.AnonymousId = value; break;
                    case 12 when name.SequenceEqual("integrations"u8): fields.Integrations = value; break;
                    case 17 when name.SequenceEqual("originalTimestamp"u8): fields.OriginalTimestamp = value; break;
                }
            }
            return fields;
        }
    }

    private static IngressError? ReadHeapEvent(JsonElement item, Location at, out ParsedEvent parsed)
    {
        parsed = default;
        string? identity = null, idempotencyKey = null;
        ProducerTime? timestamp = null;
        var error = RequiredString(Present(item, "identity"), "identity", at, out identity)
            ?? RequiredString(Present(item, "event"), "event", at, out _)
            ?? OptionalObject(Present(item, "properties"), "properties", at)
            ?? OptionalTimestamp(Present(item, "timestamp"), "timestamp", at, out timestamp)
            ?? OptionalString(Present(item, "idempotency_key"), "idempotency_key", at, out idempotencyKey);
        if (error is not null)
            return error;
        // Heap's API has no sentAt, originalTimestamp or context, so they are not checked. One a producer adds anyway is
        // read as the writer always read it: a context only when it is an object; the client time is originalTimestamp
        // when that is a string, else timestamp; the clock is corrected only when it and sentAt are date-times.
        var namesSentAt = item.TryGetProperty("sentAt", out var sentAt);
        var clientTime = item.TryGetProperty("originalTimestamp", out var original) && original.ValueKind == JsonValueKind.String ? DateTimeOf(original) : timestamp;
        parsed = WithClock(new ParsedEvent(item, "track", idempotencyKey, identity!)
        {
            Context = item.TryGetProperty("context", out var context) ? context : default,
            NamesSentAt = namesSentAt,
        }, clientTime, DateTimeOf(sentAt)?.Instant);
        return null;
    }

    /// <summary>The event with its client time and how long it waited, when it has both a client time and a sentAt.</summary>
    private static ParsedEvent WithClock(ParsedEvent parsed, ProducerTime? clientTime, DateTimeOffset? sentAt) =>
        clientTime is { } happened && sentAt is { } sent
            ? parsed with { ClientTime = happened.Json, WaitedTicks = sent.UtcTicks - happened.Instant.UtcTicks }
            : parsed;

    /// <summary>A date-time the producer sent: its JSON value, copied as it came, and the instant it names.</summary>
    private readonly record struct ProducerTime(JsonElement Json, DateTimeOffset Instant);

    private static OrError<string> ReadWriteKey(JsonElement root, string? authorization, string bodyField, string? queryWriteKey)
    {
        if (!BasicCredentials.TryReadUsername(authorization, out var username))
            return IngressError.InvalidCredentials;
        if (username is not null)
            return username;
        if (OptionalString(Present(root, bodyField), bodyField, Location.Root, out var fromBody) is { } error)
            return error;
        if (fromBody is not null)
            return fromBody;
        return string.IsNullOrEmpty(queryWriteKey) ? IngressError.MissingWriteKey(bodyField) : queryWriteKey;
    }

    /// <summary>A present, non-empty string, or null when absent or JSON null; anything else is the producer's mistake.</summary>
    /// <param name="property">The value found under <paramref name="name"/>, Undefined when absent or JSON null (<see cref="Present"/>).</param>
    private static IngressError? OptionalString(JsonElement property, string name, Location at, out string? value)
    {
        value = null;
        if (property.ValueKind == JsonValueKind.Undefined)
            return null;
        if (property.ValueKind != JsonValueKind.String)
            return IngressError.BadRequest($"{name} must be a string", at.Path(name));
        value = property.GetString();
        return string.IsNullOrEmpty(value) ? IngressError.BadRequest($"{name} must not be empty", at.Path(name)) : null;
    }

    private static IngressError? RequiredString(JsonElement property, string name, Location at, out string? value) =>
        OptionalString(property, name, at, out value) ?? (value is null ? IngressError.BadRequest($"{name} is required", at.Path(name)) : null);

    private static IngressError? OptionalObject(JsonElement property, string name, Location at)
    {
        var kind = property.ValueKind;
        return kind is JsonValueKind.Undefined or JsonValueKind.Object ? null : IngressError.BadRequest($"{name} must be an object", at.Path(name));
    }

    private static IngressError? OptionalTimestamp(JsonElement property, string name, Location at, out ProducerTime? value)
    {
        value = DateTimeOf(property);
        return property.ValueKind == JsonValueKind.Undefined || value is not null
            ? null
            : IngressError.BadRequest($"{name} must be an ISO-8601 date-time string", at.Path(name));
    }

    /// <summary>The date-time a JSON string names; null for anything else (Undefined included).</summary>
    private static ProducerTime? DateTimeOf(JsonElement property) =>
        property.ValueKind == JsonValueKind.String && property.TryGetDateTimeOffset(out var instant) ? new ProducerTime(property, instant) : null;

    /// <summary>
    /// A property's name as UTF-8 without escapes: the body's own bytes, without making a string of them, unless the
    /// producer spelled the name with escapes (SDKs do not), which are then decoded.
    /// </summary>
    internal static ReadOnlySpan<byte> UnescapedName(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        return raw.IndexOf((byte)'\\') < 0 ? raw : Encoding.UTF8.GetBytes(property.Name);
    }

    /// <summary>The named property, or Undefined when it is absent or JSON null (SDKs send "userId": null for anonymous users).</summary>
    private static JsonElement Present(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : default;

    private static IngressError EventTooLarge(Location at, IngressOptions options) =>
        IngressError.TooLarge($"the event exceeds {options.MaxEventBytes} bytes", at.Path());

    /// <summary>
    /// True when a \uXXXX escape names a surrogate that is not part of a high-low pair. In valid JSON a backslash occurs
    /// only inside strings and always starts a complete escape, so stepping from backslash to backslash reads every escape.
    /// </summary>
    private static bool HasLoneSurrogateEscape(ReadOnlySpan<byte> json)
    {
        var expectLow = false;
        var position = 0;
        while (json[position..].IndexOf((byte)'\\') is var offset and >= 0)
        {
            var escape = position + offset;
            var unit = EscapedUnit(json, escape);
            var isLow = unit is >= 0xDC00 and <= 0xDFFF;
            // A high surrogate must be followed at once by an escaped low one.
            if (expectLow != isLow || (expectLow && escape != position))
                return true;
            expectLow = unit is >= 0xD800 and <= 0xDBFF;
            position = escape + (unit >= 0 ? 6 : 2);
        }
        return expectLow;
    }

    /// <summary>The UTF-16 unit a \uXXXX escape at <paramref name="escape"/> names, or -1 for any other escape.</summary>
    private static int EscapedUnit(ReadOnlySpan<byte> json, int escape) =>
        json[escape + 1] == (byte)'u' && int.TryParse(json.Slice(escape + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var unit)
            ? unit
            : -1;

    private static string TypeOf(IngressRoute route) => route switch
    {
        IngressRoute.Track => "track",
        IngressRoute.Identify => "identify",
        IngressRoute.Page => "page",
        IngressRoute.Screen => "screen",
        IngressRoute.Group => "group",
        IngressRoute.Alias => "alias",
        _ => throw new ArgumentOutOfRangeException(nameof(route), route, "not a single-event Segment route"),
    };

    private static string? TypeNamed(JsonElement type) =>
        type.ValueEquals("track") ? "track"
        : type.ValueEquals("identify") ? "identify"
        : type.ValueEquals("page") ? "page"
        : type.ValueEquals("screen") ? "screen"
        : type.ValueEquals("group") ? "group"
        : type.ValueEquals("alias") ? "alias"
        : null;

    /// <summary>Where in the body an event is, so an error can name the field (<c>batch[3].event</c>); paths are built only for errors.</summary>
    private readonly record struct Location(string? Array, int Index)
    {
        public static readonly Location Root = new(null, 0);

        public string? Path() => Array is null ? null : $"{Array}[{Index}]";

        public string Path(string field) => Array is null ? field : $"{Array}[{Index}].{field}";
    }
}
