using System.Net;
using System.Text;
using System.Text.Json;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Spooling;

namespace AkkaCollector.Tests.Ingress;

public sealed class TrackingApiTests : IAsyncLifetime
{
    private IngressTestHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await IngressTestHost.StartAsync(("Ingress:TrustedProxies:0", "10.0.0.0/8"), ("Ingress:RetryAfterSeconds", "7"));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>A request a producer could get wrong, and the answer it must get.</summary>
    public sealed record MalformedCase(string Path, byte[] Body, int Status, string? Field, string? BasicWriteKey = "wk", string? ContentEncoding = null)
    {
        public MalformedCase(string path, string json, int status, string? field, string? basicWriteKey = "wk")
            : this(path, Encoding.UTF8.GetBytes(json), status, field, basicWriteKey)
        {
        }
    }

    private static readonly Dictionary<string, MalformedCase> Malformed = new()
    {
        ["bad json"] = new("/v1/track", """{"userId":"u1","event":""", 400, null),
        ["empty body"] = new("/v1/track", "", 400, null),
        ["invalid UTF-8"] = new("/v1/track", [.. "{\"userId\":\"u\",\"event\":\""u8, 0xC3, 0x28, .. "\"}"u8], 400, null),
        ["lone surrogate escape"] = new("/v1/track", """{"userId":"u","event":"e","properties":{"\uDC00":1}}""", 400, null),
        ["body is an array"] = new("/v1/track", "[1,2]", 400, null),
        ["properties is a string"] = new("/v1/track", Bodies.Track(extra: ""","properties":"cheap" """), 400, "properties"),
        ["timestamp is not ISO-8601"] = new("/v1/track", Bodies.Track(extra: ""","timestamp":"yesterday" """), 400, "timestamp"),
        ["timestamp is a number"] = new("/v1/track", Bodies.Track(extra: ""","timestamp":1700000000"""), 400, "timestamp"),
        ["userId is a number"] = new("/v1/track", """{"userId":42,"event":"e"}""", 400, "userId"),
        ["no userId or anonymousId"] = new("/v1/identify", """{"traits":{"plan":"pro"}}""", 400, "userId"),
        ["track without event"] = new("/v1/track", """{"userId":"u1"}""", 400, "event"),
        ["alias without previousId"] = new("/v1/alias", """{"userId":"u1"}""", 400, "previousId"),
        ["group without groupId"] = new("/v1/group", """{"userId":"u1"}""", 400, "groupId"),
        ["missing write key"] = new("/v1/track", Bodies.Track(), 401, "writeKey", basicWriteKey: null),
        ["batch item without event"] = new("/v1/batch", """{"writeKey":"wk","batch":[{"type":"track","event":"a","userId":"u"},{"type":"identify","userId":"u"},{"type":"page","userId":"u"},{"type":"track","userId":"u"}]}""", 400, "batch[3].event", null),
        ["batch item of unknown type"] = new("/v1/batch", """{"batch":[{"type":"purchase","userId":"u"}]}""", 400, "batch[0].type"),
        ["batch item without type"] = new("/v1/batch", """{"batch":[{"event":"e","userId":"u"}]}""", 400, "batch[0].type"),
        ["batch is not an array"] = new("/v1/batch", """{"batch":{"type":"track"}}""", 400, "batch"),
        ["batch context is a string"] = new("/v1/batch", """{"context":"web","batch":[{"type":"track","event":"e","userId":"u"}]}""", 400, "context"),
        ["empty batch"] = new("/v1/batch", """{"batch":[]}""", 400, "batch"),
        ["10 000-event batch"] = new("/v1/batch", Bodies.Batch(10_000), 400, "batch", null),
        ["oversize event"] = new("/v1/track", Bodies.Track(extra: Bodies.Padding(40_000)), 413, null),
        ["oversize event in a batch"] = new("/v1/batch", $$"""{"batch":[{"type":"track","event":"e","userId":"u"},{"type":"track","event":"e","userId":"u"{{Bodies.Padding(40_000)}}}]}""", 413, "batch[1]"),
        ["oversize request"] = new("/v1/batch", Bodies.Batch(20, padding: 30_000), 413, null, null),
        ["gzip bomb"] = new("/v1/batch", Bodies.GzipBomb, 413, null, ContentEncoding: "gzip"),
        ["gzip header on a plain body"] = new("/v1/track", Encoding.UTF8.GetBytes(Bodies.Track()), 400, null, ContentEncoding: "gzip"),
        ["brotli"] = new("/v1/track", Encoding.UTF8.GetBytes(Bodies.Track()), 415, null, ContentEncoding: "br"),
        ["heap without identity"] = new("/api/track", """{"app_id":"11","event":"Purchase"}""", 400, "identity", null),
        ["heap without app_id"] = new("/api/track", """{"identity":"ada@example.com","event":"Purchase"}""", 401, "app_id", null),
        ["heap batch event without event"] = new("/api/track", """{"app_id":"11","events":[{"identity":"a","event":"x"},{"identity":"b"}]}""", 400, "events[1].event", null),
    };

    public static TheoryData<string> MalformedCases => new(Malformed.Keys);

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public async Task Should_answer_a_malformed_request_with_a_json_4xx_and_spool_nothing(string name)
    {
        var @case = Malformed[name];

        var response = await _host.PostAsync(@case.Path, @case.Body, @case.BasicWriteKey, @case.ContentEncoding);

        Assert.Equal(@case.Status, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("error").GetString()));
        Assert.Equal(@case.Field, error.TryGetProperty("field", out var field) ? field.GetString() : null);
        Assert.Empty(_host.Spool.Received);
    }

    [Fact]
    public async Task Should_store_a_track_sent_with_basic_auth_and_answer_success()
    {
        var response = await _host.PostAsync("/v1/track", Bodies.Track("ada", ""","properties":{"plan":"pro","seats":3}"""), "wk-basic");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"success":true}""", await response.Content.ReadAsStringAsync());
        var spooled = Assert.Single(_host.Spool.Received);
        Assert.Equal(("wk-basic", "ada", "track"), (spooled.WriteKey, spooled.PartitionKey, spooled.Type));
        var payload = Bodies.Json(spooled.Payload);
        Assert.Equal("Signed Up", payload.GetProperty("event").GetString());
        Assert.Equal(3, payload.GetProperty("properties").GetProperty("seats").GetInt32());
        Assert.Equal("track", payload.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Should_store_every_event_of_a_batch_whose_write_key_is_in_the_body()
    {
        var body = """
            {"writeKey":"wk-body","context":{"library":{"name":"analytics-go"},"locale":"en-GB"},"sentAt":"2024-05-01T10:00:00Z",
             "batch":[
               {"type":"identify","userId":"ada","traits":{"name":"Ada"}},
               {"type":"track","anonymousId":"anon-7","event":"Viewed","context":{"locale":"fr-FR"}},
               {"type":"alias","previousId":"anon-7","userId":"ada"}]}
            """;

        var response = await _host.PostAsync("/v1/batch", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var spooled = _host.Spool.Received;
        Assert.Equal(["identify", "track", "alias"], spooled.Select(e => e.Type));
        Assert.Equal(["ada", "anon-7", "ada"], spooled.Select(e => e.PartitionKey));
        Assert.All(spooled, e => Assert.Equal("wk-body", e.WriteKey));
        var viewed = Bodies.Json(spooled[1].Payload);
        Assert.Equal("fr-FR", viewed.GetProperty("context").GetProperty("locale").GetString());
        Assert.Equal("analytics-go", viewed.GetProperty("context").GetProperty("library").GetProperty("name").GetString());
        Assert.Equal("2024-05-01T10:00:00Z", viewed.GetProperty("sentAt").GetString());
        Assert.False(viewed.TryGetProperty("writeKey", out _));
    }

    [Fact]
    public async Task Should_keep_the_producers_messageId()
    {
        await _host.PostAsync("/v1/track", Bodies.Track(extra: ""","messageId":"client-msg-1" """), "wk");

        var spooled = Assert.Single(_host.Spool.Received);
        Assert.Equal("client-msg-1", spooled.MessageId);
        Assert.Equal("client-msg-1", Bodies.Json(spooled.Payload).GetProperty("messageId").GetString());
    }

    [Fact]
    public async Task Should_assign_a_distinct_messageId_to_each_event_that_has_none()
    {
        await _host.PostAsync("/v1/batch", Bodies.Batch(3));

        var spooled = _host.Spool.Received;
        Assert.Equal(3, spooled.Select(e => e.MessageId).Distinct().Count());
        Assert.All(spooled, e =>
        {
            Assert.Matches("^[0-9a-f]{32}$", e.MessageId);
            Assert.Equal(e.MessageId, Bodies.Json(e.Payload).GetProperty("messageId").GetString());
        });
    }

    [Fact]
    public async Task Should_add_receivedAt_and_the_peer_address_as_context_ip()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        await _host.PostAsync("/v1/track", Encoding.UTF8.GetBytes(Bodies.Track(extra: ""","context":{"ip":"1.2.3.4","app":{"name":"shop"}}""")), "wk", peer: "203.0.113.9");

        var payload = Bodies.Json(Assert.Single(_host.Spool.Received).Payload);
        var receivedAt = DateTimeOffset.Parse(payload.GetProperty("receivedAt").GetString()!);
        Assert.InRange(receivedAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal("203.0.113.9", payload.GetProperty("context").GetProperty("ip").GetString());
        Assert.Equal("shop", payload.GetProperty("context").GetProperty("app").GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("10.1.2.3", "198.51.100.7, 10.9.9.9", "198.51.100.7")]
    [InlineData("203.0.113.1", "198.51.100.7", "203.0.113.1")]
    [InlineData("10.1.2.3", "6.6.6.6, 198.51.100.7", "198.51.100.7")]
    public async Task Should_believe_X_Forwarded_For_only_from_a_trusted_proxy(string peer, string forwardedFor, string expectedClient)
    {
        await _host.PostAsync("/v1/track", Encoding.UTF8.GetBytes(Bodies.Track()), "wk", peer: peer, forwardedFor: forwardedFor);

        Assert.Equal(IPAddress.Parse(expectedClient), Assert.Single(_host.Lookups.Calls).Client);
        Assert.Equal(expectedClient, Bodies.Json(Assert.Single(_host.Spool.Received).Payload).GetProperty("context").GetProperty("ip").GetString());
    }

    [Fact]
    public async Task Should_store_a_heap_server_side_track_as_a_segment_track()
    {
        var response = await _host.PostAsync("/api/track",
            """{"app_id":"heap-11","identity":"ada@example.com","event":"Purchase","properties":{"amount":12.5},"timestamp":"2024-05-01T10:00:00Z","idempotency_key":"idem-1"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var spooled = Assert.Single(_host.Spool.Received);
        Assert.Equal(("heap-11", "ada@example.com", "track", "idem-1"), (spooled.WriteKey, spooled.PartitionKey, spooled.Type, spooled.MessageId));
        var payload = Bodies.Json(spooled.Payload);
        Assert.Equal("ada@example.com", payload.GetProperty("userId").GetString());
        Assert.Equal(12.5, payload.GetProperty("properties").GetProperty("amount").GetDouble());
        Assert.False(payload.TryGetProperty("app_id", out _));
        Assert.False(payload.TryGetProperty("identity", out _));
    }

    [Fact]
    public async Task Should_store_every_event_of_a_heap_bulk_track()
    {
        var response = await _host.PostAsync("/api/track",
            """{"app_id":"heap-11","events":[{"identity":"a","event":"x"},{"identity":"b","event":"y"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["a", "b"], _host.Spool.Received.Select(e => e.PartitionKey));
    }

    [Fact]
    public async Task Should_accept_a_gzip_compressed_batch()
    {
        var response = await _host.PostAsync("/v1/batch", Bodies.Gzip(Bodies.Batch(5)), contentEncoding: "gzip");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(5, _host.Spool.Received.Count);
    }

    [Theory]
    [InlineData(SpoolOutcome.Full, "spool_full")]
    [InlineData(SpoolOutcome.Failed, "journal_failed")]
    public async Task Should_answer_503_with_Retry_After_when_the_spool_cannot_store(SpoolOutcome outcome, string cause)
    {
        _host.Spool.Outcome = outcome;
        var counted = CollectorMetrics.HttpRequests.WithLabels("/v1/track", "503", cause).Value;

        var response = await _host.PostAsync("/v1/track", Bodies.Track(), "wk");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()));
        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/track", "503", cause).Value > counted);
    }

    [Fact]
    public async Task Should_answer_503_with_Retry_After_when_the_spool_does_not_answer_in_time()
    {
        _host.Spool.Throws = new TimeoutException("ask timed out");

        var response = await _host.PostAsync("/v1/track", Bodies.Track(), "wk");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Should_pass_on_a_rate_limit_rejection_with_its_Retry_After_and_spool_nothing()
    {
        _host.Lookups.Verdict = new LookupVerdict(new LookupRejection(429, "rate limited", TimeSpan.FromSeconds(2)), false, null);

        var response = await _host.PostAsync("/v1/track", Bodies.Track(), "wk");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
        Assert.Equal("rate limited", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.Empty(_host.Spool.Received);
    }

    [Fact]
    public async Task Should_write_the_lookups_location_and_mark_unverified_events()
    {
        _host.Lookups.Verdict = new LookupVerdict(null, true, new GeoLocation("SE", "Östergötland", "Linköping", 58.41, 15.62, "Europe/Stockholm"));

        await _host.PostAsync("/v1/track", Encoding.UTF8.GetBytes(Bodies.Track()), "wk", peer: "89.160.20.112");

        var spooled = Assert.Single(_host.Spool.Received);
        Assert.True(spooled.Unverified);
        var location = Bodies.Json(spooled.Payload).GetProperty("context").GetProperty("location");
        Assert.Equal("Linköping", location.GetProperty("city").GetString());
        Assert.Equal("SE", location.GetProperty("countryCode").GetString());
        Assert.Contains("Linköping", Encoding.UTF8.GetString(spooled.Payload));
    }

    [Fact]
    public async Task Should_count_each_answer_by_route_status_and_cause()
    {
        var before = CollectorMetrics.HttpRequests.WithLabels("/v1/group", "400", "bad_request").Value;

        await _host.PostAsync("/v1/group", """{"userId":"u1"}""", "wk");

        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/group", "400", "bad_request").Value > before);
    }
}
