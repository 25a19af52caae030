using System.Net;
using AkkaCollector.Testing.Redis;

namespace AkkaCollector.IntegrationTests.Lookups;

[Collection(RedisLookupsCollection.Name)]
public sealed class RateLimitAndRegistryTests : IDisposable
{
    private readonly RedisServerProcess _redis = RedisServerProcess.Start();

    [Fact]
    public async Task Should_allow_the_burst_then_answer_429_with_Retry_After()
    {
        await using var lookups = await LookupsHarness.StartAsync(_redis.EndPoint, new Dictionary<string, string?>
        {
            ["RateLimit:PerWriteKey:Rate"] = "2",
            ["RateLimit:PerWriteKey:Burst"] = "5",
            ["RateLimit:PerClientIp:Rate"] = "0",
        });

        for (var i = 0; i < 5; i++)
            Assert.Null((await lookups.TimedCheckAsync("burst-app")).Verdict.Rejection);
        var rejection = (await lookups.TimedCheckAsync("burst-app")).Verdict.Rejection;

        Assert.NotNull(rejection);
        Assert.Equal(429, rejection.StatusCode);
        Assert.InRange(rejection.RetryAfter ?? TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(500));
        Assert.Null((await lookups.TimedCheckAsync("another-app")).Verdict.Rejection);
        await Task.Delay(rejection.RetryAfter!.Value + TimeSpan.FromMilliseconds(20));
        Assert.Null((await lookups.TimedCheckAsync("burst-app")).Verdict.Rejection);
        LookupsHarness.AssertOnlyFastBoundedCommands(_redis);
    }

    [Fact]
    public async Task Should_limit_each_client_address_on_its_own()
    {
        await using var lookups = await LookupsHarness.StartAsync(_redis.EndPoint, new Dictionary<string, string?>
        {
            ["RateLimit:PerWriteKey:Rate"] = "0",
            ["RateLimit:PerClientIp:Rate"] = "1",
            ["RateLimit:PerClientIp:Burst"] = "2",
        });
        var busy = IPAddress.Parse("203.0.113.7");

        Assert.Null((await lookups.TimedCheckAsync("app", busy)).Verdict.Rejection);
        Assert.Null((await lookups.TimedCheckAsync("app", busy)).Verdict.Rejection);
        Assert.Equal(429, (await lookups.TimedCheckAsync("app", busy)).Verdict.Rejection?.StatusCode);
        Assert.Null((await lookups.TimedCheckAsync("app", IPAddress.Parse("203.0.113.8"))).Verdict.Rejection);
    }

    [Fact]
    public async Task Should_answer_401_for_an_unknown_write_key_and_403_for_a_blocked_app()
    {
        LookupsHarness.RegisterApp(_redis, "known");
        LookupsHarness.RegisterApp(_redis, "blocked", ("blocked", "1"));
        await using var lookups = await LookupsHarness.StartAsync(_redis.EndPoint, new Dictionary<string, string?>
        {
            ["AppRegistry:Enabled"] = "true",
        });

        var known = (await lookups.TimedCheckAsync("known")).Verdict;
        var unknown = (await lookups.TimedCheckAsync("nobody")).Verdict;
        var blocked = (await lookups.TimedCheckAsync("blocked")).Verdict;

        Assert.Equal((null, false), (known.Rejection, known.Unverified));
        Assert.Equal(401, unknown.Rejection?.StatusCode);
        Assert.Equal(403, blocked.Rejection?.StatusCode);
        LookupsHarness.AssertOnlyFastBoundedCommands(_redis);
    }

    [Fact]
    public async Task Should_reuse_a_registry_answer_until_its_cache_ttl_expires()
    {
        LookupsHarness.RegisterApp(_redis, "soon-blocked");
        await using var lookups = await LookupsHarness.StartAsync(_redis.EndPoint, new Dictionary<string, string?>
        {
            ["AppRegistry:Enabled"] = "true",
            ["AppRegistry:CacheTtl"] = "00:00:01",
        });
        Assert.Null((await lookups.TimedCheckAsync("soon-blocked")).Verdict.Rejection);

        LookupsHarness.RegisterApp(_redis, "soon-blocked", ("blocked", "true"));
        var cached = (await lookups.TimedCheckAsync("soon-blocked")).Verdict;
        await Task.Delay(TimeSpan.FromMilliseconds(1100));
        var refreshed = (await lookups.TimedCheckAsync("soon-blocked")).Verdict;

        Assert.Null(cached.Rejection);
        Assert.Equal(403, refreshed.Rejection?.StatusCode);
    }

    [Fact]
    public async Task Should_accept_every_write_key_when_the_registry_is_off()
    {
        await using var lookups = await LookupsHarness.StartAsync(_redis.EndPoint, new Dictionary<string, string?>
        {
            ["AppRegistry:Enabled"] = "false",
        });

        var verdict = (await lookups.TimedCheckAsync("never-registered")).Verdict;

        Assert.Equal((null, false), (verdict.Rejection, verdict.Unverified));
    }

    public void Dispose() => _redis.Dispose();
}

/// <summary>The lookup tests read process-wide metrics, so they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class RedisLookupsCollection
{
    public const string Name = "redis lookups";
}
