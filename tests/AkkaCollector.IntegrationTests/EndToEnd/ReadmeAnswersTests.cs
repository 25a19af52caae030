using System.Net;
using System.Text;
using System.Text.Json;
using AkkaCollector.Shutdown;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;
using AkkaCollector.Verbs;

namespace AkkaCollector.IntegrationTests.EndToEnd;

/// <summary>What a newcomer following README.md gets back from a real collector: the answers README promises.</summary>
public sealed class ReadmeAnswersTests
{
    [Fact]
    public async Task Should_answer_every_non_200_with_readable_JSON_and_export_only_collector_metrics()
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());
        using var http = new HttpClient { BaseAddress = new Uri(collector.BaseUrl) };

        var (notFound, notFoundBody) = await SendAsync(http, HttpMethod.Get, "/nothing/here");
        var (notAllowed, notAllowedBody) = await SendAsync(http, HttpMethod.Delete, "/v1/track");
        var (adminOff, adminOffBody) = await SendAsync(http, HttpMethod.Post, AdminShutdownEndpoint.Path);
        using var brotli = new HttpRequestMessage(HttpMethod.Post, "/v1/track") { Content = new StringContent("{}") };
        brotli.Content.Headers.ContentEncoding.Add("br");
        using var unsupported = await http.SendAsync(brotli);
        var unsupportedBody = await unsupported.Content.ReadAsStringAsync();
        var metrics = await http.GetStringAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, notFound);
        Assert.Equal("no route GET /nothing/here; the routes are in README.md (HTTP API)", Error(notFoundBody));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, notAllowed);
        // OPTIONS too: every ingest route answers a CORS preflight.
        Assert.Equal("/v1/track does not take DELETE; it takes OPTIONS, POST", Error(notAllowedBody));
        Assert.Equal(HttpStatusCode.NotFound, adminOff);
        Assert.Equal(AdminShutdownEndpoint.OffError, Error(adminOffBody));
        Assert.Contains("Content-Encoding 'br' is not supported", unsupportedBody, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", unsupportedBody, StringComparison.Ordinal);
        var families = metrics.Split('\n').Where(line => line.Length > 0 && line[0] != '#').Select(line => line.Split('{', ' ')[0]).ToHashSet();
        Assert.All(families, family => Assert.StartsWith("collector_", family, StringComparison.Ordinal));
        Assert.Contains("collector_process_cpu_seconds_total", families);
        Assert.Contains("collector_process_resident_bytes", families);
    }

    [Fact]
    public async Task Should_answer_a_stored_event_with_a_200_of_known_length_rather_than_a_chunked_one()
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());
        using var http = new HttpClient { BaseAddress = new Uri(collector.BaseUrl) };

        using var stored = await Tracking.PostAsync(http, "wk_readme");

        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal("""{"success":true}""", await stored.Content.ReadAsStringAsync());
        Assert.Equal("application/json; charset=utf-8", stored.Content.Headers.ContentType?.ToString());
        Assert.Equal(16, stored.Content.Headers.ContentLength);
        Assert.NotEqual(true, stored.Headers.TransferEncodingChunked);
    }

    [Fact]
    public async Task Should_tell_the_shutdown_verb_how_to_turn_the_admin_endpoint_on_when_it_is_off()
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await ShutdownVerb.RunAsync(["--url", collector.BaseUrl, "--token", "any"], output, error);

        Assert.Equal(1, exitCode);
        Assert.StartsWith("404 Not Found", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("start the collector with Shutdown:AdminToken=TOKEN", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_put_the_embedded_Kafka_at_its_stable_port_and_fall_back_with_a_line_when_the_port_is_taken()
    {
        var port = LoopbackPort.Free();
        var settings = new Dictionary<string, string> { ["Kafka__MockPort"] = $"{port}" };
        using var first = await CollectorProcess.StartAsync(new CollectorProcessOptions { Settings = settings });
        using var second = await CollectorProcess.StartAsync(new CollectorProcessOptions { Settings = settings });
        await using var audit = TopicAudit.Start($"127.0.0.1:{port}", "events");

        var firstStatus = await TrackAsync(first, "stable-1");
        var secondStatus = await TrackAsync(second, "stable-2");
        var delivered = await audit.WaitUntilAsync(topic => topic.Contains("stable-1"), TimeSpan.FromSeconds(60));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (firstStatus, secondStatus));
        Assert.True(delivered, $"the event never reached 127.0.0.1:{port}: {audit}");
        Assert.Contains(first.Current.Lines, line => line.Text.Contains($"MOCK Kafka cluster at 127.0.0.1:{port}.", StringComparison.Ordinal));
        Assert.Contains(second.Current.Lines, line => line.Text.Contains($"Kafka:MockPort {port} on 127.0.0.1 is taken", StringComparison.Ordinal));
        Assert.False(audit.Contains("stable-2"), "the second collector's event went to the first one's mock");
    }

    private static string? Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").GetString();

    private static async Task<(HttpStatusCode, string)> SendAsync(HttpClient http, HttpMethod method, string path)
    {
        using var response = await http.SendAsync(new HttpRequestMessage(method, path));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpStatusCode> TrackAsync(CollectorProcess collector, string messageId)
    {
        using var http = new HttpClient { BaseAddress = new Uri(collector.BaseUrl) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track")
        {
            Content = new StringContent($$"""{"userId":"u","event":"Stable","messageId":"{{messageId}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String("stable:"u8.ToArray()));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
