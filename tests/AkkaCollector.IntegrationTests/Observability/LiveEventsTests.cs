using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AkkaCollector.IntegrationTests.Browser;
using AkkaCollector.LiveEvents;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Observability;

/// <summary>The live events view over HTTP, on a real collector delivering to its Kafka mock.</summary>
public sealed class LiveEventsTests
{
    private const string Token = "live-events-test-token";
    private const string WriteKey = "live-test";
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_show_stored_events_marked_once_Kafka_confirmed_them_and_rejected_requests_with_their_reason()
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions
        {
            Settings = new Dictionary<string, string> { ["Shutdown__AdminToken"] = Token },
        });
        using var http = new HttpClient { BaseAddress = new Uri(collector.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };

        using var anonymous = await http.GetAsync(LiveEventsApi.JsonPath);
        await ReadAsync(http);  // Looking starts the recording.
        var stored = await TrackAsync(http, """{"userId":"u-1","event":"Order Completed","messageId":"live-1"}""");
        var rejected = await TrackAsync(http, """{"event":"No User"}""");
        var snapshot = await ReadUntilAsync(http, root => Entries(root).Any(e => e.GetProperty("kind").GetString() == "stored" && e.GetProperty("delivered").GetBoolean()));
        using var page = await http.GetAsync(LiveEventsApi.Path);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.BadRequest), (stored, rejected));
        var entries = Entries(snapshot).ToArray();
        var delivered = Assert.Single(entries, e => e.GetProperty("kind").GetString() == "stored");
        Assert.Equal("live-1", delivered.GetProperty("messageId").GetString());
        Assert.Contains("\"event\":\"Order Completed\"", delivered.GetProperty("payload").GetString(), StringComparison.Ordinal);
        var refusal = Assert.Single(entries, e => e.GetProperty("kind").GetString() == "rejected");
        Assert.Equal(400, refusal.GetProperty("status").GetInt32());
        Assert.Equal("userId or anonymousId is required", refusal.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("id=\"writekeys\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_draw_in_chromium_each_stored_event_turning_delivered_and_each_rejected_request_with_its_status()
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions
        {
            Settings = new Dictionary<string, string> { ["Shutdown__AdminToken"] = Token },
        });
        using var http = new HttpClient { BaseAddress = new Uri(collector.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        await using var chromium = await HeadlessBrowser.LaunchAsync();
        var withoutToken = await chromium.NewPageAsync();
        await withoutToken.Page.GoToAsync(collector.BaseUrl + LiveEventsApi.Path);
        var page = await chromium.NewPageAsync();
        await page.Page.GoToAsync($"{collector.BaseUrl}{LiveEventsApi.Path}#token={Token}");

        // The page polls the JSON once a second: once it is live, the collector records what arrives.
        await page.Page.WaitForSelectorAsync("#status[data-state='live']", new() { Timeout = WaitMs });
        var stored = await TrackAsync(http, """{"userId":"u-2","event":"Seen In Chromium","messageId":"live-chromium-1"}""");
        var rejected = await TrackAsync(http, """{"event":"No User In Chromium"}""");
        await page.Page.WaitForSelectorAsync(
            $"section[data-write-key='{WriteKey}'] li.entry[data-kind='stored'][data-message-id='live-chromium-1'][data-delivered='true']", new() { Timeout = WaitMs });
        await page.Page.WaitForSelectorAsync($"section[data-write-key='{WriteKey}'] li.entry[data-kind='rejected'][data-status='400']", new() { Timeout = WaitMs });
        await withoutToken.Page.WaitForSelectorAsync("#status[data-state='unauthorized']", new() { Timeout = WaitMs });
        var rejectionText = await page.EvaluateAsync<string>("document.querySelector(\"li.entry[data-kind='rejected']\").textContent");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.BadRequest), (stored, rejected));
        Assert.Contains("userId or anonymousId is required", rejectionText, StringComparison.Ordinal);
        Assert.DoesNotContain(page.Network, request => request.Failure is not null);
    }

    private static readonly int WaitMs = (int)DeliveryTimeout.TotalMilliseconds;

    private static IEnumerable<JsonElement> Entries(JsonElement root) =>
        root.GetProperty("writeKeys").EnumerateArray()
            .Where(key => key.GetProperty("writeKey").GetString() == WriteKey)
            .SelectMany(key => key.GetProperty("entries").EnumerateArray());

    private static async Task<JsonElement> ReadAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, LiveEventsApi.JsonPath);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static async Task<JsonElement> ReadUntilAsync(HttpClient http, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + DeliveryTimeout;
        while (true)
        {
            var root = await ReadAsync(http);
            if (condition(root))
                return root;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The live events view never reached the expected state; it shows {root}");
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    private static async Task<HttpStatusCode> TrackAsync(HttpClient http, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{WriteKey}:")));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
