using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace AkkaCollector.Rig.Traffic;

/// <summary>One request body ready to send: its path, its write key, the message ids it carries, and the device it comes from.</summary>
/// <param name="ClientAddress">The sending device's address, which a load balancer in front of the collector puts in X-Forwarded-For.</param>
public sealed record EventRequest(string Path, string WriteKey, ReadOnlyMemory<byte> Body, string[] MessageIds, string ClientAddress);

/// <summary>
/// Makes Segment-spec events that look like a real site's traffic: track (about two thirds), identify and page
/// calls from many users under many write keys, with varied properties, context and timestamps. Every event
/// carries a messageId unique to the run (<c>PREFIX-SEQUENCE</c>), which is what the ledger and the Kafka audit match.
/// </summary>
public sealed class EventFactory
{
    private static readonly string[] TrackEvents =
    [
        "Product Viewed", "Product Added", "Cart Viewed", "Checkout Started", "Order Completed", "Signed Up",
        "Signed In", "Video Playback Started", "Search Performed", "Coupon Applied", "Subscription Renewed",
    ];

    private static readonly string[] Pages = ["/", "/pricing", "/docs/getting-started", "/blog/breaking-apis", "/cart", "/checkout", "/account"];
    private static readonly string[] Currencies = ["USD", "EUR", "GBP", "JPY"];
    private static readonly string[] Plans = ["free", "team", "business", "enterprise"];
    private static readonly string[] Libraries = ["analytics.js", "analytics-ios", "analytics-android", "analytics-node"];

    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ];

    /// <summary>
    /// Where requests come from: the addresses MaxMind's test databases locate (London, Boxford, Linköping, Milton,
    /// Changchun), so geo-coding has something to find, and documentation addresses (RFC 5737) it does not know.
    /// </summary>
    private static readonly string[] ClientAddresses =
    [
        "81.2.69.142", "2.125.160.216", "89.160.20.112", "216.160.83.56", "175.16.199.0",
        .. Enumerable.Range(1, 20).Select(i => $"203.0.113.{i}"),
    ];

    private readonly string _idPrefix;
    private readonly int _users;
    private readonly int _writeKeys;
    private readonly int _batchSize;
    private readonly string _padding;
    private readonly string? _clientAddress;
    private long _sequence;

    /// <param name="idPrefix">Start of every messageId; unique per run so runs never mix in one topic.</param>
    /// <param name="users">Distinct users to spread events over.</param>
    /// <param name="writeKeys">Distinct write keys (apps).</param>
    /// <param name="batchSize">1: one event per request to /v1/track|identify|page; more: /v1/batch with that many.</param>
    /// <param name="paddingBytes">Extra bytes in each event, as a top-level <c>padding</c> field.</param>
    /// <param name="clientAddress">The one device every request comes from; null spreads them over addresses MaxMind's test databases know and do not.</param>
    public EventFactory(string idPrefix, int users, int writeKeys, int batchSize, int paddingBytes = 0, string? clientAddress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(writeKeys, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _idPrefix = idPrefix;
        _users = users;
        _writeKeys = writeKeys;
        _batchSize = batchSize;
        _padding = new string('x', paddingBytes);
        _clientAddress = clientAddress;
    }

    /// <summary>The write key of app <paramref name="index"/>.</summary>
    public static string WriteKey(int index) => $"rig_wk_{index:D4}";

    /// <summary>Makes the next request; safe to call from many threads.</summary>
    public EventRequest Next()
    {
        var random = Random.Shared;
        var writeKey = WriteKey(random.Next(_writeKeys));
        var client = _clientAddress ?? ClientAddresses[random.Next(ClientAddresses.Length)];
        var ids = new string[_batchSize];
        var buffer = new ArrayBufferWriter<byte>(_batchSize * 700);
        using (var json = new Utf8JsonWriter(buffer))
        {
            if (_batchSize == 1)
            {
                var type = PickType(random);
                ids[0] = NextId();
                WriteEvent(json, random, type, ids[0], inBatch: false);
                json.Flush();
                return new EventRequest($"/v1/{type}", writeKey, buffer.WrittenMemory, ids, client);
            }

            json.WriteStartObject();
            json.WriteStartArray("batch");
            for (var i = 0; i < _batchSize; i++)
            {
                ids[i] = NextId();
                WriteEvent(json, random, PickType(random), ids[i], inBatch: true);
            }
            json.WriteEndArray();
            json.WriteString("sentAt", DateTimeOffset.UtcNow);
            json.WriteEndObject();
        }
        return new EventRequest("/v1/batch", writeKey, buffer.WrittenMemory, ids, client);
    }

    private string NextId() => $"{_idPrefix}-{Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture)}";

    private static string PickType(Random random) => random.Next(6) switch
    {
        < 4 => "track",
        4 => "page",
        _ => "identify",
    };

    private void WriteEvent(Utf8JsonWriter json, Random random, string type, string messageId, bool inBatch)
    {
        var user = random.Next(_users);
        json.WriteStartObject();
        if (inBatch)
            json.WriteString("type", type);
        json.WriteString("messageId", messageId);
        // A fifth of the traffic is anonymous visitors, as on any public site.
        if (random.Next(5) == 0)
            json.WriteString("anonymousId", $"anon-{user:x8}");
        else
            json.WriteString("userId", $"user-{user}");
        json.WriteString("timestamp", DateTimeOffset.UtcNow.AddMilliseconds(-random.Next(5000)));
        switch (type)
        {
            case "track":
                WriteTrack(json, random);
                break;
            case "page":
                json.WriteString("name", Pages[random.Next(Pages.Length)]);
                json.WriteStartObject("properties");
                json.WriteString("path", Pages[random.Next(Pages.Length)]);
                json.WriteString("referrer", random.Next(3) == 0 ? "https://news.example.com/" : "");
                json.WriteString("title", "Example Store");
                json.WriteEndObject();
                break;
            default:
                json.WriteStartObject("traits");
                json.WriteString("email", $"user{user}@example.com");
                json.WriteString("plan", Plans[user % Plans.Length]);
                json.WriteNumber("logins", random.Next(1, 500));
                json.WriteString("createdAt", DateTimeOffset.UnixEpoch.AddDays(19000 + user % 1000));
                json.WriteEndObject();
                break;
        }
        if (_padding.Length > 0)
            json.WriteString("padding", _padding);
        WriteContext(json, random, user);
        json.WriteEndObject();
    }

    private static void WriteTrack(Utf8JsonWriter json, Random random)
    {
        var name = TrackEvents[random.Next(TrackEvents.Length)];
        json.WriteString("event", name);
        json.WriteStartObject("properties");
        switch (name)
        {
            case "Order Completed" or "Checkout Started":
                json.WriteString("order_id", $"ord-{random.Next():x}");
                json.WriteNumber("revenue", Math.Round(random.NextDouble() * 500, 2));
                json.WriteString("currency", Currencies[random.Next(Currencies.Length)]);
                json.WriteStartArray("products");
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    json.WriteStartObject();
                    json.WriteString("product_id", $"sku-{random.Next(10_000)}");
                    json.WriteNumber("price", Math.Round(random.NextDouble() * 100, 2));
                    json.WriteNumber("quantity", random.Next(1, 5));
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                break;
            case "Search Performed":
                json.WriteString("query", $"blue shoes size {random.Next(36, 47)}");
                json.WriteNumber("results", random.Next(0, 200));
                break;
            default:
                json.WriteString("product_id", $"sku-{random.Next(10_000)}");
                json.WriteString("category", random.Next(2) == 0 ? "Footwear" : "Accessories");
                json.WriteBoolean("logged_in", random.Next(2) == 0);
                json.WriteNumber("position", random.Next(1, 50));
                break;
        }
        json.WriteEndObject();
    }

    private static void WriteContext(Utf8JsonWriter json, Random random, int user)
    {
        json.WriteStartObject("context");
        json.WriteStartObject("library");
        json.WriteString("name", Libraries[user % Libraries.Length]);
        json.WriteString("version", "4.4.1");
        json.WriteEndObject();
        json.WriteString("userAgent", UserAgents[user % UserAgents.Length]);
        json.WriteString("locale", random.Next(3) == 0 ? "de-DE" : "en-US");
        json.WriteString("ip", $"203.0.113.{user % 250 + 1}");
        json.WriteEndObject();
    }
}
