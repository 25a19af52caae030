using System.Net;
using System.Text;
using AkkaCollector.Ingress;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Spooling;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Tests.Ingress;

/// <summary>CORS on the tracking API: browser SDKs on other origins can send and read every answer; other origins cannot.</summary>
public sealed class CorsTests : IAsyncLifetime
{
    private const string Shop = "https://shop.example.com";
    private IngressTestHost _host = null!;

    public async Task InitializeAsync() => _host = await IngressTestHost.StartAsync(
        ("Ingress:AllowedOrigins:0", Shop), ("Ingress:AllowedOrigins:1", "https://*.example.org"), ("Ingress:AllowedOrigins:2", "http://localhost:3000"));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string> IngestRoutes => new(["/v1/track", "/v1/t", "/v1/batch", "/v1/b", "/v1/import", "/beacon/v1/batch", "/api/track", "/v1/m"]);

    [Theory]
    [MemberData(nameof(IngestRoutes))]
    public async Task Should_answer_a_preflight_with_the_methods_headers_and_max_age_the_sdks_need(string path)
    {
        using var preflight = Preflight(path, Shop, "POST", "content-type,authorization,anonymousid,x-retry-count");

        var response = await _host.Client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Shop, Single(response, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Single(response, "Access-Control-Allow-Credentials"));
        Assert.Contains("POST", Single(response, "Access-Control-Allow-Methods"));
        var allowed = Single(response, "Access-Control-Allow-Headers").Split(", ");
        Assert.All(["Content-Type", "Authorization", "AnonymousId", "X-Retry-Count", "SentAt", "Rsa-Retry-Attempt", "Content-Encoding"],
            header => Assert.Contains(header, allowed));
        Assert.Equal("7200", Single(response, "Access-Control-Max-Age"));
        Assert.Equal("Origin", Single(response, "Vary"));
    }

    [Fact]
    public async Task Should_answer_a_preflight_on_the_pixel_routes_with_GET()
    {
        var response = await _host.Client.SendAsync(Preflight("/v1/pixel/track", Shop, "GET"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("GET, OPTIONS", Single(response, "Access-Control-Allow-Methods"));
    }

    [Fact]
    public async Task Should_put_the_cors_headers_on_a_stored_answer()
    {
        var response = await PostFrom(Shop, "/v1/t", Bodies.Track());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Shop, Single(response, "Access-Control-Allow-Origin"));
        Assert.Equal("Retry-After", Single(response, "Access-Control-Expose-Headers"));
        Assert.Single(_host.Spool.Received);
    }

    /// <summary>Every error a browser SDK must react to, readable by its script: Access-Control-Allow-Origin and, where it applies, an exposed Retry-After.</summary>
    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(413)]
    [InlineData(415)]
    [InlineData(429)]
    [InlineData(503)]
    public async Task Should_put_the_cors_headers_on_every_error_answer(int status)
    {
        var body = Bodies.Track();
        string? writeKey = "wk";
        string? encoding = null;
        switch (status)
        {
            case 400: body = """{"userId":"u1"}"""; break;
            case 401: writeKey = null; break;
            case 413: body = Bodies.Track(extra: Bodies.Padding(40_000)); break;
            case 415: encoding = "br"; break;
            case 429: _host.Lookups.Verdict = new LookupVerdict(new LookupRejection(429, "rate limited", TimeSpan.FromSeconds(3)), false, null); break;
            case 503: _host.Spool.Outcome = SpoolOutcome.Full; break;
        }

        var response = await PostFrom(Shop, "/v1/t", body, writeKey, encoding);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(Shop, Single(response, "Access-Control-Allow-Origin"));
        Assert.Equal("Retry-After", Single(response, "Access-Control-Expose-Headers"));
        if (status is 429 or 503)
            Assert.NotNull(response.Headers.RetryAfter);
    }

    [Theory]
    [InlineData("https://evil.example.net")]
    [InlineData("https://example.org")]
    [InlineData("http://shop.example.com")]
    [InlineData("https://shop.example.com.evil.net")]
    [InlineData("http://localhost:3001")]
    [InlineData("null")]
    public async Task Should_refuse_a_request_from_an_origin_not_allowed_without_cors_headers_storing_nothing(string origin)
    {
        var before = CollectorMetrics.HttpRequests.WithLabels("/v1/t", "403", "origin_not_allowed").Value;

        var response = await PostFrom(origin, "/v1/t", Bodies.Track());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Ingress:AllowedOrigins", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(response.Headers, header => header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(_host.Spool.Received);
        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/t", "403", "origin_not_allowed").Value > before);
    }

    [Fact]
    public async Task Should_refuse_a_preflight_from_an_origin_not_allowed_without_cors_headers()
    {
        var before = CollectorMetrics.HttpRequests.WithLabels("/v1/batch", "403", "origin_not_allowed").Value;

        var response = await _host.Client.SendAsync(Preflight("/v1/batch", "https://evil.example.net", "POST"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(response.Headers, header => header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/batch", "403", "origin_not_allowed").Value > before);
    }

    [Theory]
    [InlineData("https://www.example.org")]
    [InlineData("https://a.b.example.org")]
    [InlineData("http://localhost:3000")]
    [InlineData("HTTPS://SHOP.EXAMPLE.COM")]
    public async Task Should_accept_the_listed_origins_and_subdomains_of_a_wildcard(string origin)
    {
        var response = await PostFrom(origin, "/v1/t", Bodies.Track());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(origin, Single(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("PUT")]
    [InlineData("GET")]
    public async Task Should_answer_a_preflight_for_a_method_not_served_with_a_counted_405_naming_the_served_one(string method)
    {
        var before = CollectorMetrics.HttpRequests.WithLabels("/v1/track", "405", "method_not_allowed").Value;

        var response = await _host.Client.SendAsync(Preflight("/v1/track", Shop, method));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("POST", await response.Content.ReadAsStringAsync());
        Assert.Equal("POST, OPTIONS", string.Join(", ", response.Content.Headers.Allow));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Methods"));
        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/track", "405", "method_not_allowed").Value > before);
        Assert.Empty(_host.Spool.Received);
    }

    [Fact]
    public async Task Should_count_an_answered_preflight_under_the_routes_label()
    {
        var before = CollectorMetrics.HttpRequests.WithLabels("/v1/i", "204", "preflight").Value;

        await _host.Client.SendAsync(Preflight("/v1/i", Shop, "POST"));

        Assert.True(CollectorMetrics.HttpRequests.WithLabels("/v1/i", "204", "preflight").Value > before);
    }

    [Fact]
    public async Task Should_send_no_cors_headers_to_a_request_without_an_Origin()
    {
        var response = await _host.PostAsync("/v1/track", Bodies.Track(), "wk");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(response.Headers, header => header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Should_allow_any_origin_when_no_origin_is_listed()
    {
        await using var open = await IngressTestHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/t") { Content = new StringContent(Bodies.Track()) };
        request.Headers.Add("Origin", "http://127.0.0.1:41234");
        request.Headers.Authorization = new("Basic", Convert.ToBase64String("wk:"u8.ToArray()));

        var response = await open.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("http://127.0.0.1:41234", Single(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("*", "*")]
    [InlineData("https://Shop.Example.com", "https://shop.example.com")]
    [InlineData("https://shop.example.com:443", "https://shop.example.com")]
    [InlineData("http://localhost:3000", "http://localhost:3000")]
    [InlineData("https://*.example.com", "https://*.example.com")]
    public void Should_read_valid_allowed_origin_entries(string entry, string normalized)
    {
        Assert.True(BrowserOrigins.TryParseEntry(entry, out var parsed));
        Assert.Equal(normalized, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("shop.example.com")]
    [InlineData("https://shop.example.com/")]
    [InlineData("https://shop.example.com/checkout")]
    [InlineData("ftp://shop.example.com")]
    [InlineData("https://shop.*.com")]
    [InlineData("*.example.com")]
    [InlineData("https://user@shop.example.com")]
    public void Should_refuse_to_start_with_an_allowed_origin_that_is_not_an_origin(string entry)
    {
        var options = new IngressOptions { AllowedOrigins = [Shop, entry] };

        var result = new IngressOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, failure => failure.StartsWith("Ingress:AllowedOrigins:1 = ", StringComparison.Ordinal));
    }

    private static HttpRequestMessage Preflight(string path, string origin, string method, string? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (headers is not null)
            request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private Task<HttpResponseMessage> PostFrom(string origin, string path, string json, string? writeKey = "wk", string? encoding = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "text/plain") };
        request.Headers.Add("Origin", origin);
        if (writeKey is not null)
            request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));
        if (encoding is not null)
            request.Content.Headers.ContentEncoding.Add(encoding);
        return _host.Client.SendAsync(request);
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : response.Content.Headers.TryGetValues(header, out var content) ? content : []);
}
