using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using AkkaCollector.IntegrationTests.Lookups;
using AkkaCollector.Testing.Processes;
using AkkaCollector.Testing.Redis;

namespace AkkaCollector.IntegrationTests.EndToEnd;

/// <summary>What a producer sees over HTTP when the Redis lookups refuse it: a collector process against a real redis-server.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class LookupAnswerTests
{
    private const int Burst = 3;

    /// <summary>
    /// One token every 5 s. At one a second, a fresh collector on a loaded machine took over a second for the burst's
    /// requests (their first journal writes), and a token came back before the fourth (CI saw it once).
    /// </summary>
    private static readonly TimeSpan TokenEvery = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Should_answer_429_with_Retry_After_and_a_reason_past_the_burst_and_401_and_403_for_unknown_and_blocked_apps()
    {
        using var redis = RedisServerProcess.Start();
        LookupsHarness.RegisterApp(redis, "limited-app");
        LookupsHarness.RegisterApp(redis, "blocked-app", ("blocked", "1"));
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions
        {
            Settings = new Dictionary<string, string>
            {
                ["Redis__Configuration"] = redis.EndPoint,
                ["AppRegistry__Enabled"] = "true",
                // One request every TokenEvery per write key, three at once; the per-address limit is off so only the key counts.
                ["RateLimit__PerWriteKey__Rate"] = (1 / TokenEvery.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                ["RateLimit__PerWriteKey__Burst"] = $"{Burst}",
                ["RateLimit__PerClientIp__Rate"] = "0",
            },
        });
        using var http = new HttpClient { BaseAddress = new Uri(collector.BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        await Tracking.WaitUntilRegistryAnswersAsync(http, TimeSpan.FromSeconds(20));

        var burstStarted = Stopwatch.StartNew();
        var withinBurst = new List<HttpStatusCode>();
        for (var i = 0; i < Burst; i++)
        {
            using var response = await Tracking.PostAsync(http, "limited-app");
            withinBurst.Add(response.StatusCode);
        }
        using var limited = await Tracking.PostAsync(http, "limited-app");
        var burstTook = burstStarted.Elapsed;
        using var unknown = await Tracking.PostAsync(http, "unknown-app");
        using var blocked = await Tracking.PostAsync(http, "blocked-app");

        Assert.All(withinBurst, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        // The wait for the next token, in whole seconds rounded up: a token's interval less the time the burst took.
        var soonest = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((TokenEvery - burstTook).TotalSeconds)));
        Assert.InRange(limited.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, soonest, TokenEvery);
        Assert.Equal("rate limited", await ErrorOfAsync(limited));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("unknown write key", await ErrorOfAsync(unknown));
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        Assert.Equal("app blocked", await ErrorOfAsync(blocked));
        LookupsHarness.AssertOnlyFastBoundedCommands(redis);
    }

    private static async Task<string?> ErrorOfAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("error").GetString();
    }
}
