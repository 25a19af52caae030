using System.Net;
using System.Text;
using AkkaCollector.Ingress;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Spooling;

namespace AkkaCollector.Tests.Ingress;

/// <summary>Segment's pixel API: the event in the query, stored before the answer, and always a 200 GIF never cached.</summary>
public sealed class PixelApiTests : IAsyncLifetime
{
    private IngressTestHost _host = null!;

    public async Task InitializeAsync() => _host = await IngressTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private const string OpenedJson = """{"writeKey":"pixel-key","userId":"u-7","event":"Email Opened","properties":{"subject":"Spring sale ✿"}}""";

    public static TheoryData<string, string> Encodings => new()
    {
        { "base64", Convert.ToBase64String(Encoding.UTF8.GetBytes(OpenedJson)) },
        { "base64 url-safe without padding", Convert.ToBase64String(Encoding.UTF8.GetBytes(OpenedJson)).TrimEnd('=').Replace('+', '-').Replace('/', '_') },
        { "plain JSON", OpenedJson },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Should_store_the_event_in_data_and_answer_a_transparent_gif_that_is_never_cached(string encoding, string data)
    {
        _ = encoding;

        var response = await _host.Client.GetAsync($"/v1/pixel/track?data={Uri.EscapeDataString(data)}");

        await AssertGifAsync(response);
        var spooled = Assert.Single(_host.Spool.Received);
        Assert.Equal("pixel-key", spooled.WriteKey);
        Assert.Equal("track", spooled.Type);
        Assert.Equal("Spring sale ✿", Bodies.Json(spooled.Payload).GetProperty("properties").GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Should_take_base64_whose_plus_signs_were_not_escaped()
    {
        // '+' in a query means a space; a mail client that pastes base64 unescaped sends spaces for pluses.
        var json = """{"writeKey":"k","userId":"u>>>","event":"e???"}""";
        var base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
        Assert.Contains('+', base64);

        var response = await _host.Client.GetAsync($"/v1/pixel/track?data={base64.Replace("=", "%3D")}");

        await AssertGifAsync(response);
        Assert.Single(_host.Spool.Received);
    }

    [Fact]
    public async Task Should_build_the_event_from_plain_parameters_with_dotted_names_nesting()
    {
        var response = await _host.Client.GetAsync(
            "/v1/pixel/page?writeKey=pixel-key&anonymousId=a-1&name=Newsletter&properties.campaign=spring&context.campaign.source=email");

        await AssertGifAsync(response);
        var spooled = Assert.Single(_host.Spool.Received);
        Assert.Equal(("pixel-key", "page"), (spooled.WriteKey, spooled.Type));
        var payload = Bodies.Json(spooled.Payload);
        Assert.Equal("Newsletter", payload.GetProperty("name").GetString());
        Assert.Equal("spring", payload.GetProperty("properties").GetProperty("campaign").GetString());
        Assert.Equal("email", payload.GetProperty("context").GetProperty("campaign").GetProperty("source").GetString());
    }

    [Theory]
    [InlineData("/v1/pixel/identify?writeKey=k&userId=u&traits.plan=pro", "identify")]
    [InlineData("/v1/pixel/screen?writeKey=k&userId=u&name=Home", "screen")]
    [InlineData("/v1/pixel/group?writeKey=k&userId=u&groupId=g", "group")]
    [InlineData("/v1/pixel/alias?writeKey=k&userId=u&previousId=a", "alias")]
    public async Task Should_serve_every_call_type(string url, string type)
    {
        var response = await _host.Client.GetAsync(url);

        await AssertGifAsync(response);
        Assert.Equal(type, Assert.Single(_host.Spool.Received).Type);
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { "/v1/pixel/track?data=%%%not-base64%%%", "bad_request" },
        { $"/v1/pixel/track?data={Convert.ToBase64String("not json at all"u8.ToArray())}", "bad_request" },
        { $"/v1/pixel/track?data={Convert.ToBase64String("[1,2]"u8.ToArray())}", "bad_request" },
        { $"/v1/pixel/track?data={Uri.EscapeDataString("""{"writeKey":"k","userId":"u"}""")}", "bad_request" },
        { $"/v1/pixel/track?data={Uri.EscapeDataString("""{"userId":"u","event":"e"}""")}", "unauthorized" },
        { "/v1/pixel/track", "bad_request" },
        { "/v1/pixel/track?writeKey=k&userId=u&event=e&properties=x&properties.y=z", "bad_request" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task Should_answer_the_gif_to_an_invalid_event_count_it_by_cause_and_store_nothing(string url, string cause)
    {
        var before = CollectorMetrics.HttpRequests.WithLabels("/v1/pixel/track", "200", cause).Value;

        var response = await _host.Client.GetAsync(url);

        await AssertGifAsync(response);
        Assert.Empty(_host.Spool.Received);
        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/pixel/track", "200", cause).Value > before, $"not counted as {cause}");
    }

    [Fact]
    public async Task Should_answer_the_gif_when_rate_limited_or_the_spool_is_full_and_count_why()
    {
        _host.Lookups.Verdict = new LookupVerdict(new LookupRejection(429, "rate limited", TimeSpan.FromSeconds(1)), false, null);
        var limited = CollectorMetrics.HttpRequests.WithLabels("/v1/pixel/track", "200", "rate_limited").Value;
        await AssertGifAsync(await _host.Client.GetAsync("/v1/pixel/track?writeKey=k&userId=u&event=e"));
        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/pixel/track", "200", "rate_limited").Value > limited);

        _host.Lookups.Verdict = LookupVerdict.Accept;
        _host.Spool.Outcome = SpoolOutcome.Full;
        var full = CollectorMetrics.HttpRequests.WithLabels("/v1/pixel/track", "200", "spool_full").Value;
        await AssertGifAsync(await _host.Client.GetAsync("/v1/pixel/track?writeKey=k&userId=u&event=e"));
        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/pixel/track", "200", "spool_full").Value > full);
    }

    [Fact]
    public async Task Should_answer_only_once_the_spool_has_the_event()
    {
        var spool = new GatedSpool();
        await using var host = await IngressTestHost.StartAsync(spool);

        var answer = host.Client.GetAsync("/v1/pixel/track?writeKey=k&userId=u&event=e");
        await spool.Handed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        Assert.False(answer.IsCompleted, "answered before the spool stored the event");
        spool.Release.SetResult(SpoolOutcome.Stored);

        await AssertGifAsync(await answer.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static async Task AssertGifAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/gif", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control lacks no-store");
        var gif = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(PixelApi.TransparentGif, gif);
        Assert.Equal("GIF89a"u8.ToArray(), gif[..6]);
        Assert.Equal((1, 1), (gif[6] | gif[7] << 8, gif[8] | gif[9] << 8));
    }

    /// <summary>A spool that holds its answer until the test releases it.</summary>
    private sealed class GatedSpool : IEventSpool
    {
        public TaskCompletionSource Handed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<SpoolOutcome> Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<SpoolOutcome> SpoolAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
        {
            Handed.TrySetResult();
            return Release.Task;
        }
    }
}
