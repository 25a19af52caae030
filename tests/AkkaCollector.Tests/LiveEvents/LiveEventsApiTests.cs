using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using AkkaCollector.LiveEvents;
using AkkaCollector.Tests.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCollector.Tests.LiveEvents;

/// <summary>GET /live-events and its JSON: behind the admin token when one is set, off in the production profile.</summary>
public sealed class LiveEventsApiTests
{
    [Fact]
    public async Task Should_serve_a_self_contained_page_that_reads_only_its_own_json()
    {
        await using var app = await StartAsync(enabled: true, adminToken: null);

        using var response = await app.GetTestClient().GetAsync(LiveEventsApi.Path);
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotMatch(new Regex("https?://|<script[^>]+src=|<link[^>]+href=|@import"), page);
        Assert.Equal([LiveEventsApi.JsonPath], Regex.Matches(page, @"fetch\(""([^""]+)""").Select(match => match.Groups[1].Value));
        Assert.Contains("id=\"writekeys\"", page, StringComparison.Ordinal);
        Assert.Contains("id=\"status\" data-state=", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_answer_the_json_only_with_the_admin_token_when_one_is_set()
    {
        await using var app = await StartAsync(enabled: true, adminToken: "s3cret");
        var client = app.GetTestClient();

        using var anonymous = await client.GetAsync(LiveEventsApi.JsonPath);
        using var wrong = await SendAsync(client, "guess");
        using var right = await SendAsync(client, "s3cret");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.True(JsonDocument.Parse(await right.Content.ReadAsStringAsync()).RootElement.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Should_answer_404_saying_how_to_turn_the_view_on_when_it_is_off()
    {
        await using var app = await StartAsync(enabled: false, adminToken: null);

        using var response = await app.GetTestClient().GetAsync(LiveEventsApi.JsonPath);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("LiveEvents:Enabled=true", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Should_be_off_in_the_production_profile()
    {
        var production = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(CollectorProfile.Folder, "production.json"))
            .Build();

        var options = production.GetSection(LiveEventsOptions.Section).Get<LiveEventsOptions>();

        Assert.False(options?.Enabled ?? true);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, LiveEventsApi.JsonPath);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    private static Task<WebApplication> StartAsync(bool enabled, string? adminToken) =>
        BareHost.StartAsync(app => app.MapLiveEvents(adminToken), builder =>
        {
            builder.Configuration.AddInMemoryCollection([new KeyValuePair<string, string?>("LiveEvents:Enabled", enabled ? "true" : "false")]);
            builder.Services.AddLiveEvents(builder.Configuration);
        });
}
