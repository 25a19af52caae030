using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AkkaCollector.Observability;

namespace AkkaCollector.Tests.Ingress;

/// <summary>The paths and wire formats of the browser and mobile SDKs, served exactly as the long routes.</summary>
public sealed class SdkRoutesTests : IAsyncLifetime
{
    private IngressTestHost _host = null!;

    public async Task InitializeAsync() => _host = await IngressTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string, string, string> ShortPaths => new()
    {
        { "/v1/t", "track", """{"userId":"u1","event":"Clicked"}""" },
        { "/v1/i", "identify", """{"userId":"u1","traits":{"plan":"pro"}}""" },
        { "/v1/p", "page", """{"anonymousId":"a1","name":"Home"}""" },
        { "/v1/s", "screen", """{"anonymousId":"a1","name":"Home"}""" },
        { "/v1/g", "group", """{"userId":"u1","groupId":"g1"}""" },
        { "/v1/a", "alias", """{"userId":"u1","previousId":"a1"}""" },
    };

    [Theory]
    [MemberData(nameof(ShortPaths))]
    public async Task Should_store_an_event_posted_to_a_short_path_as_its_long_route_does(string path, string type, string json)
    {
        var before = CollectorMetrics.HttpRequests.WithLabels(path, "200", "ok").Value;

        var response = await _host.PostAsync(path, json, "wk");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var spooled = Assert.Single(_host.Spool.Received);
        Assert.Equal(type, spooled.Type);
        Assert.Equal(type, Bodies.Json(spooled.Payload).GetProperty("type").GetString());
        Assert.True(CollectorMetrics.HttpRequests.WithLabels(path, "200", "ok").Value > before, "not counted under the short path's own label");
    }

    [Theory]
    [InlineData("/v1/t", """{"userId":"u1"}""", 400, "bad_request")]
    [InlineData("/v1/g", """{"userId":"u1"}""", 400, "bad_request")]
    [InlineData("/v1/b", """{"batch":[]}""", 400, "bad_request")]
    public async Task Should_refuse_what_the_long_route_refuses_and_count_it_under_the_short_path(string path, string json, int status, string cause)
    {
        var before = CollectorMetrics.HttpRequests.WithLabels(path, status.ToString(), cause).Value;

        var response = await _host.PostAsync(path, json, "wk");

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Empty(_host.Spool.Received);
        Assert.True(CollectorMetrics.HttpRequests.WithLabels(path, status.ToString(), cause).Value > before);
    }

    [Fact]
    public async Task Should_refuse_an_oversize_event_on_a_short_path_with_413()
    {
        var response = await _host.PostAsync("/v1/t", Bodies.Track(extra: Bodies.Padding(40_000)), "wk");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(_host.Spool.Received);
    }

    /// <summary>
    /// What analytics-kotlin's HTTPClient sends (and analytics-swift, which names its Content-Type application/json):
    /// POST {apiHost}/b, apiHost api.segment.io/v1 by default; Content-Type text/plain; Content-Encoding gzip over a
    /// chunked body; User-Agent analytics-kotlin/VERSION; the write key as Basic auth and in the body; the batch file
    /// as the SDK writes it: {"batch":[...],"sentAt":"...","writeKey":"..."}, each event with its own timestamp.
    /// </summary>
    [Fact]
    public async Task Should_store_a_mobile_sdk_batch_sent_gzip_and_chunked_with_basic_auth_to_v1_b()
    {
        const string batch = """
            {"batch":[
              {"type":"track","event":"Application Opened","anonymousId":"a-1","messageId":"m-1","timestamp":"2024-05-01T09:59:00.000Z",
               "context":{"app":{"name":"Shop"},"device":{"model":"Pixel 8"},"library":{"name":"analytics-kotlin","version":"1.16.0"}},"integrations":{}},
              {"type":"screen","name":"Cart","anonymousId":"a-1","messageId":"m-2","timestamp":"2024-05-01T09:59:30.000Z","properties":{},
               "context":{"library":{"name":"analytics-kotlin","version":"1.16.0"}},"integrations":{}}
            ],"sentAt":"2024-05-01T10:00:00.000Z","writeKey":"mobile-key"}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/b")
        {
            // No Content-Length: the SDK streams its gzip (setChunkedStreamingMode(0)).
            Content = new StreamContent(new NonSeekableStream(Bodies.Gzip(batch))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("mobile-key:"u8.ToArray()));
        request.Headers.UserAgent.ParseAdd("analytics-kotlin/1.16.0");

        var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["m-1", "m-2"], _host.Spool.Received.Select(e => e.MessageId));
        Assert.All(_host.Spool.Received, e => Assert.Equal("mobile-key", e.WriteKey));
        var first = Bodies.Json(_host.Spool.Received[0].Payload);
        Assert.Equal("2024-05-01T10:00:00.000Z", first.GetProperty("sentAt").GetString());
        Assert.Equal("2024-05-01T09:59:00.000Z", first.GetProperty("originalTimestamp").GetString());
        Assert.Equal("Pixel 8", first.GetProperty("context").GetProperty("device").GetProperty("model").GetString());
    }

    [Fact]
    public async Task Should_take_the_write_key_from_the_body_alone_as_analytics_swift_sends_it()
    {
        var response = await _host.PostAsync("/v1/b", Bodies.Gzip("""{"batch":[{"type":"track","event":"e","anonymousId":"a"}],"writeKey":"swift-key"}"""), contentEncoding: "gzip");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("swift-key", Assert.Single(_host.Spool.Received).WriteKey);
    }

    [Fact]
    public async Task Should_store_a_batch_uploaded_to_v1_import_as_the_classic_android_sdk_does()
    {
        var response = await _host.PostAsync("/v1/import", Bodies.Batch(3));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, _host.Spool.Received.Count);
    }

    [Fact]
    public async Task Should_store_a_rudderstack_beacon_batch_with_the_write_key_in_the_query()
    {
        var response = await _host.PostAsync("/beacon/v1/batch?writeKey=rudder-key",
            """{"batch":[{"type":"track","event":"e","anonymousId":"a","originalTimestamp":"2024-05-01T09:00:00.000Z","sentAt":"2024-05-01T09:00:01.000Z"}],"sentAt":"2024-05-01T09:00:01.000Z"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("rudder-key", Assert.Single(_host.Spool.Received).WriteKey);
    }

    [Fact]
    public async Task Should_not_take_a_write_key_from_the_query_on_routes_whose_sdks_never_send_one_there()
    {
        var response = await _host.PostAsync("/v1/track?writeKey=from-query", Bodies.Track());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_host.Spool.Received);
    }

    [Fact]
    public async Task Should_read_and_discard_analytics_js_telemetry_on_v1_m()
    {
        var before = CollectorMetrics.HttpRequests.WithLabels("/v1/m", "200", "discarded").Value;

        var response = await _host.PostAsync("/v1/m", """{"series":[{"type":"Counter","metric":"analytics_js.invoke","value":1,"tags":{}}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(_host.Spool.Received);
        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/m", "200", "discarded").Value > before);
    }

    [Fact]
    public async Task Should_keep_the_analytics_js_fields_as_sent()
    {
        const string json = """
            {"type":"page","anonymousId":"a1","name":"Home","writeKey":"wk","messageId":"ajs-next-1",
             "sentAt":"2024-05-01T10:00:00.000Z","timestamp":"2024-05-01T10:00:00.000Z",
             "_metadata":{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]},
             "context":{"page":{"path":"/","url":"http://shop.test/","title":"Shop","referrer":"","search":""},
                        "userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/140","locale":"en-GB",
                        "library":{"name":"analytics.js","version":"npm:next-1.84.3"}}}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/p") { Content = new StringContent(json, Encoding.UTF8, "text/plain") };
        request.Headers.UserAgent.ParseAdd("HeadlessChrome/140");

        var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var payload = Bodies.Json(Assert.Single(_host.Spool.Received).Payload);
        Assert.Equal("ajs-next-1", payload.GetProperty("messageId").GetString());
        Assert.Equal("2024-05-01T10:00:00.000Z", payload.GetProperty("sentAt").GetString());
        Assert.Equal("""{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]}""", payload.GetProperty("_metadata").GetRawText());
        var context = payload.GetProperty("context");
        Assert.Equal("/", context.GetProperty("page").GetProperty("path").GetString());
        Assert.Equal("Mozilla/5.0 (X11; Linux x86_64) Chrome/140", context.GetProperty("userAgent").GetString());
        Assert.False(payload.TryGetProperty("writeKey", out _));
    }

    [Fact]
    public async Task Should_fill_context_userAgent_from_the_header_only_when_the_sdk_sent_none()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch")
        {
            Content = new StringContent("""
                {"writeKey":"wk","batch":[
                  {"type":"track","event":"e","userId":"u"},
                  {"type":"track","event":"e","userId":"u","context":{"userAgent":"sdk's own"}}]}
                """),
        };
        request.Headers.UserAgent.ParseAdd("Mozilla/5.0 (Test)");

        await _host.Client.SendAsync(request);

        Assert.Equal(["Mozilla/5.0 (Test)", "sdk's own"],
            _host.Spool.Received.Select(e => Bodies.Json(e.Payload).GetProperty("context").GetProperty("userAgent").GetString()));
    }

    [Fact]
    public async Task Should_add_no_userAgent_when_the_request_has_no_User_Agent_header()
    {
        await _host.PostAsync("/v1/track", Bodies.Track(), "wk");

        Assert.False(Bodies.Json(Assert.Single(_host.Spool.Received).Payload).GetProperty("context").TryGetProperty("userAgent", out _));
    }

    /// <summary>A body without a length, as a streamed (chunked) upload is.</summary>
    private sealed class NonSeekableStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}
