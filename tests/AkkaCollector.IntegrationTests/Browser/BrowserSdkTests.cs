using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using AkkaCollector.IntegrationTests.Durability;
using AkkaCollector.Testing.Kafka;

namespace AkkaCollector.IntegrationTests.Browser;

/// <summary>
/// Real, unmodified browser SDKs from npm in headless chromium, on a page of another origin than the collector, pointed at
/// a collector process that delivers to Kafka: every event reaches Kafka once, and the page's own network layer saw no
/// request fail. Nothing is fetched from outside this machine: analytics.js gets its settings inline (cdnSettings) and
/// its CDN is the page's own origin (cdnURL); RudderStack's bundled build gets its source config from getSourceConfig.
/// </summary>
public sealed class BrowserSdkTests : IAsyncLifetime
{
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);
    private readonly ConcurrentQueue<AuditedRecord> _records = new();
    private CollectorWithKafka _stack = null!;
    private PageServer _site = null!;
    private HeadlessBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        PageServer.RequireSdks();
        _stack = await CollectorWithKafka.StartAsync(brokers: 1, inspect: _records.Enqueue);
        _site = await PageServer.StartAsync();
        _browser = await HeadlessBrowser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        // Each in its own finally: a failure to stop one never leaves the others running.
        try
        {
            if (_browser is not null)
                await _browser.DisposeAsync();
        }
        finally
        {
            try
            {
                if (_site is not null)
                    await _site.DisposeAsync();
            }
            finally
            {
                if (_stack is not null)
                    await _stack.DisposeAsync();
            }
        }
    }

    private string CollectorHost => new Uri(_stack.Collector.BaseUrl).Authority;

    [Fact]
    public async Task Should_store_each_analytics_next_call_once_with_no_request_failing_in_the_browser()
    {
        var page = await _browser.NewPageAsync();
        await page.Page.GoToAsync(_site.Add("/shop", Pages.Segment(CollectorHost, "ajs-key")));

        var sent = await page.EvaluateAsync<SentCalls>("sendEachCall()");

        Assert.True(sent.Failures.Length == 0, $"the SDK reported failed deliveries: {string.Join("; ", sent.Failures)}\n{page.Describe()}");
        Assert.Equal(4, sent.MessageIds.Length);
        await AssertInKafkaOnceAsync(sent.MessageIds, "ajs-key", page);
        AssertNoRequestFailed(page, expectedPaths: ["/v1/i", "/v1/t", "/v1/p", "/v1/g"]);

        var track = Payload(sent.MessageIds[1]);
        Assert.Equal("track", track.GetProperty("type").GetString());
        Assert.Equal("Order Completed", track.GetProperty("event").GetString());
        Assert.Equal(42.5, track.GetProperty("properties").GetProperty("revenue").GetDouble());
        Assert.Equal("user-42", track.GetProperty("userId").GetString());
        Assert.True(track.TryGetProperty("_metadata", out _), "analytics.js's _metadata was not kept");
        Assert.True(track.TryGetProperty("sentAt", out _), "sentAt was not kept");
        Assert.True(track.TryGetProperty("originalTimestamp", out _), "the client's timestamp was not kept as originalTimestamp");
        var context = track.GetProperty("context");
        Assert.Equal("/shop", context.GetProperty("page").GetProperty("path").GetString());
        Assert.Contains("Chrome", context.GetProperty("userAgent").GetString());
        Assert.Equal("127.0.0.1", context.GetProperty("ip").GetString());
        Assert.Equal("org-7", Payload(sent.MessageIds[3]).GetProperty("groupId").GetString());
        Assert.Equal("Checkout", Payload(sent.MessageIds[2]).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Should_store_what_a_page_sends_as_it_unloads_keepalive_batch_and_sendBeacon_once()
    {
        var page = await _browser.NewPageAsync();
        await page.Page.GoToAsync(_site.Add("/leaving", Pages.Segment(CollectorHost, "unload-key")));

        // analytics.js's batching dispatcher holds the events (size 100, a 10-minute timeout) until the page goes away,
        // then posts them to /v1/b with fetch keepalive; the page's own pagehide handler sends two beacons.
        var queued = await page.EvaluateAsync<SentCalls>("queueUntilUnload()");
        // Leave for another page of the same site, as a visitor following a link does.
        await page.Page.GoToAsync(_site.Add("/thanks", "<!doctype html><html><body>Thanks!</body></html>"));

        string[] expected = [.. queued.MessageIds, $"{queued.Nonce}-beacon-text", $"{queued.Nonce}-beacon-blob"];
        await AssertInKafkaOnceAsync(expected, "unload-key", page);
        // Chromium reports requests a document sends while it is being left (keepalive, beacons) to no DevTools session:
        // the page's network log ends with the document. The collector's own counters show their answers instead: the
        // keepalive batch and the Blob beacon on /v1/b, the text beacon on /v1/t, all stored, and nothing refused.
        AssertNoRequestFailed(page, expectedPaths: []);
        var counts = await CollectorCountsAsync();
        Assert.True(counts.GetValueOrDefault(("/v1/b", "200", "ok")) == 2 && counts.GetValueOrDefault(("/v1/t", "200", "ok")) == 1,
            $"expected 2 stored answers on /v1/b and 1 on /v1/t; the collector counted {string.Join(", ", counts)}");
        Assert.DoesNotContain(counts, count => count.Key.Status is not ("200" or "204"));
        var batched = Payload(queued.MessageIds[0]);
        Assert.Equal("/leaving", batched.GetProperty("context").GetProperty("page").GetProperty("path").GetString());
        Assert.True(batched.TryGetProperty("sentAt", out _), "the batch's sentAt was not given to its events");
        Assert.Equal("Beacon Blob", Payload($"{queued.Nonce}-beacon-blob").GetProperty("event").GetString());
    }

    [Fact]
    public async Task Should_store_each_rudderstack_call_once_with_no_request_failing_in_the_browser()
    {
        var page = await _browser.NewPageAsync();
        await page.Page.GoToAsync(_site.Add("/rudder", Pages.RudderStack(_stack.Collector.BaseUrl, "rudder-key")));

        var sent = await page.EvaluateAsync<SentCalls>("sendEachCall()");

        Assert.True(sent.Failures.Length == 0, $"the SDK reported errors: {string.Join("; ", sent.Failures)}\n{page.Describe()}");
        Assert.Equal(4, sent.MessageIds.Length);
        await AssertInKafkaOnceAsync(sent.MessageIds, "rudder-key", page);
        AssertNoRequestFailed(page, expectedPaths: []);
        var track = Payload(sent.MessageIds[1]);
        Assert.Equal("Order Completed", track.GetProperty("event").GetString());
        Assert.Equal("/rudder", track.GetProperty("context").GetProperty("page").GetProperty("path").GetString());
    }

    [Fact]
    public async Task Should_store_a_pixel_loaded_by_an_img_tag_once_and_show_it()
    {
        var page = await _browser.NewPageAsync();
        var messageId = $"pixel-{Guid.NewGuid():N}";
        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $$$"""{"writeKey":"pixel-key","userId":"reader-1","event":"Email Opened","messageId":"{{{messageId}}}","properties":{"campaign":"spring"}}"""));
        var pixel = $"{_stack.Collector.BaseUrl}/v1/pixel/track?data={Uri.EscapeDataString(data)}";
        var broken = $"{_stack.Collector.BaseUrl}/v1/pixel/track?data=%25%25not-base64";
        await page.Page.GoToAsync(_site.Add("/email", $$"""
            <!doctype html><html><body>
            <img id="open" src="{{pixel}}" width="1" height="1" alt="">
            <img id="broken" src="{{broken}}" width="1" height="1" alt="">
            </body></html>
            """));

        var images = await page.EvaluateAsync<int[]>("""
            Promise.all([...document.images].map(img => img.decode().then(() => img.naturalWidth * 10 + img.naturalHeight, () => -1)))
            """);

        Assert.Equal([11, 11], images);
        await AssertInKafkaOnceAsync([messageId], "pixel-key", page);
        Assert.Equal("spring", Payload(messageId).GetProperty("properties").GetProperty("campaign").GetString());
        AssertNoRequestFailed(page, expectedPaths: ["/v1/pixel/track"]);
        Assert.Equal(1, _records.Count(record => record.Headers.GetValueOrDefault("writeKey") == "pixel-key"));
    }

    [Fact]
    public async Task Should_refuse_a_page_of_an_origin_not_allowed_and_store_nothing_from_it()
    {
        using var restricted = await Testing.Processes.CollectorProcess.StartAsync(new Testing.Processes.CollectorProcessOptions
        {
            KafkaBootstrapServers = _stack.Kafka.BootstrapServers,
            Settings = new Dictionary<string, string> { ["Ingress__AllowedOrigins__0"] = "https://shop.example.com" },
        });
        var page = await _browser.NewPageAsync();
        await page.Page.GoToAsync(_site.Add("/elsewhere", Pages.Segment(new Uri(restricted.BaseUrl).Authority, "refused-key")));

        var sent = await page.EvaluateAsync<SentCalls>("trackOnce()");

        // The browser blocks the answer (no CORS headers), so the SDK sees a network failure, and nothing is stored.
        _ = sent;
        Assert.Contains(page.Network, result => result.Url.StartsWith(restricted.BaseUrl, StringComparison.Ordinal) && result.Failure is not null);
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(restricted.BaseUrl + "/metrics");
        Assert.Contains("cause=\"origin_not_allowed\"", metrics);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(_records, record => record.Headers.GetValueOrDefault("writeKey") == "refused-key");
    }

    private async Task AssertInKafkaOnceAsync(IReadOnlyCollection<string> messageIds, string writeKey, WatchedPage page)
    {
        var arrived = await _stack.Audit.WaitUntilAsync(audit => messageIds.All(audit.Contains), DeliveryTimeout);
        Assert.True(arrived, $"not in Kafka within {DeliveryTimeout}: {string.Join(", ", messageIds.Where(id => !_stack.Audit.Contains(id)))}; " +
                             $"audit {_stack.Audit}\n{page.Describe()}\ncollector:\n{_stack.Collector.Output}");
        // Give a duplicate the time to show up before counting.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.All(messageIds, id => Assert.Equal(1, _stack.Audit.TimesSeen(id)));
        Assert.Equal(messageIds.Count, _records.Count(record => record.Headers.GetValueOrDefault("writeKey") == writeKey));
    }

    /// <summary>No request of the page failed at the network level, every one went to the page's site or the collector, every collector answer was a success, and each expected path was posted to.</summary>
    private void AssertNoRequestFailed(WatchedPage page, string[] expectedPaths)
    {
        var network = page.Network;
        Assert.True(network.All(result => result.Failure is null), $"a request failed in the browser:\n{page.Describe()}");
        Assert.True(network.All(result => result.Url.StartsWith(_site.Origin, StringComparison.Ordinal)
                                          || result.Url.StartsWith(_stack.Collector.BaseUrl, StringComparison.Ordinal)
                                          || result.Url.StartsWith("about:", StringComparison.Ordinal)),
            $"the page fetched something from elsewhere:\n{page.Describe()}");
        var toCollector = network.Where(result => result.Url.StartsWith(_stack.Collector.BaseUrl, StringComparison.Ordinal)).ToList();
        Assert.True(toCollector.All(result => result.Status is null or (>= 200 and < 300)), $"the collector refused a request:\n{page.Describe()}");
        foreach (var path in expectedPaths)
            Assert.True(toCollector.Any(result => new Uri(result.Url).AbsolutePath == path), $"the page never posted to {path}:\n{page.Describe()}");
    }

    /// <summary>collector_http_requests_total by (route, status, cause), read from the collector's /metrics.</summary>
    private async Task<Dictionary<(string Route, string Status, string Cause), double>> CollectorCountsAsync()
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(_stack.Collector.BaseUrl + "/metrics");
        var counts = new Dictionary<(string, string, string), double>();
        foreach (var match in System.Text.RegularExpressions.Regex.Matches(text,
                     @"^collector_http_requests_total\{route=""(?<route>[^""]*)"",status=""(?<status>[^""]*)"",cause=""(?<cause>[^""]*)""\} (?<value>\S+)$",
                     System.Text.RegularExpressions.RegexOptions.Multiline).Cast<System.Text.RegularExpressions.Match>())
        {
            counts[(match.Groups["route"].Value, match.Groups["status"].Value, match.Groups["cause"].Value)] =
                double.Parse(match.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        return counts;
    }

    private JsonElement Payload(string messageId)
    {
        var record = _records.First(record => record.MessageId == messageId);
        return JsonDocument.Parse(record.Value).RootElement;
    }

    /// <summary>What a page script reports: the messageIds of the calls it made, delivery failures the SDK reported, and the page's nonce.</summary>
    public sealed record SentCalls(string[] MessageIds, string[] Failures, string Nonce);
}
