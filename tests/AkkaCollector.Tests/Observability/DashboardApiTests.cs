using System.Net;
using System.Text.RegularExpressions;
using AkkaCollector.Observability;
using Microsoft.AspNetCore.TestHost;

namespace AkkaCollector.Tests.Observability;

public sealed class DashboardApiTests
{
    [Fact]
    public async Task Should_serve_a_self_contained_page_that_fetches_nothing_but_the_collectors_own_metrics()
    {
        await using var app = await BareHost.StartAsync(app => app.MapDashboard());

        using var response = await app.GetTestClient().GetAsync(DashboardApi.Path);
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotMatch(new Regex("https?://|<script[^>]+src=|<link[^>]+href=|@import"), page);
        Assert.Equal(["metrics"], Regex.Matches(page, @"fetch\(""([^""]+)""").Select(match => match.Groups[1].Value));
    }
}
