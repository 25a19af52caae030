using System.Diagnostics;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Testing.Faults;
using AkkaCollector.Testing.Redis;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Lookups;

/// <summary>
/// Every way Redis broke in the story, against a real redis-server: while it is broken, the first requests cost at
/// most one call-timeout, the breakers open, and from then on requests get the defaults (allow, unverified) at once;
/// once it is back, lookups resume by themselves.
/// </summary>
[Collection(RedisLookupsCollection.Name)]
public sealed class RedisOutageTests(ITestOutputHelper output) : IDisposable
{
    private const string WriteKey = "outage-app";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["AppRegistry:Enabled"] = "true",
        // No cache: every request must reach Redis, or an outage would hide behind cached answers.
        ["AppRegistry:CacheTtl"] = "00:00:00",
        ["RateLimit:PerWriteKey:Rate"] = "10000",
        ["RateLimit:PerWriteKey:Burst"] = "10000",
    };

    // The promise: a broken Redis costs a lookup one call-timeout. Above it, the slack is what a loaded 2-core machine
    // adds to a timer and its continuation; it stays under StackExchange.Redis's own 1 s heartbeat timeout and the 3 s
    // DEBUG SLEEP, so a lookup the breaker did not cut still fails the bound.
    private static readonly TimeSpan CallTimeoutSlack = TimeSpan.FromMilliseconds(500);
    // A PING unanswered this long on a fresh connection: the DEBUG SLEEP has reached Redis.
    private static readonly TimeSpan StalledAfter = TimeSpan.FromMilliseconds(300);

    private readonly RedisServerProcess _redis = RedisServerProcess.Start("--enable-debug-command", "yes");

    [Fact]
    public Task Should_fall_back_at_once_while_redis_is_stopped_and_resume_after_it_continues() =>
        RunOutageAsync(_redis.EndPoint, _redis.Pause, () =>
        {
            _redis.Resume();
            return Task.CompletedTask;
        });

    [Fact]
    public Task Should_fall_back_at_once_while_redis_refuses_connections_and_resume_after_a_restart() =>
        RunOutageAsync(_redis.EndPoint, _redis.Kill, () =>
        {
            // A restarted Redis is empty: its script cache too, so the rate limiter must reload its script (NOSCRIPT).
            _redis.Restart();
            LookupsHarness.RegisterApp(_redis, WriteKey);
            return Task.CompletedTask;
        });

    [Fact]
    public async Task Should_fall_back_at_once_while_the_network_black_holes_redis()
    {
        using var proxy = TcpFaultProxy.Start("127.0.0.1", _redis.Port);
        await RunOutageAsync(proxy.EndPoint.ToString(), proxy.BlackHole, () =>
        {
            proxy.Pass();
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task Should_fall_back_at_once_while_connections_to_redis_are_reset()
    {
        using var proxy = TcpFaultProxy.Start("127.0.0.1", _redis.Port);
        await RunOutageAsync(proxy.EndPoint.ToString(), proxy.Reset, () =>
        {
            proxy.Pass();
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task Should_fall_back_at_once_while_redis_answers_slower_than_the_call_timeout()
    {
        using var proxy = TcpFaultProxy.Start("127.0.0.1", _redis.Port);
        await RunOutageAsync(proxy.EndPoint.ToString(), () => proxy.Latency(TimeSpan.FromMilliseconds(400)), () =>
        {
            proxy.Pass();
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task Should_fall_back_at_once_while_another_client_stalls_redis_with_a_slow_command()
    {
        // The story's occasional trips came from KEYS and ZREMRANGEBYRANK taking seconds; DEBUG SLEEP stalls Redis the same way.
        using var stalling = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { _redis.EndPoint },
            AllowAdmin = true,
            AsyncTimeout = 10_000,
        });
        Task? stall = null;
        await RunOutageAsync(_redis.EndPoint,
            () =>
            {
                stall = stalling.GetDatabase().ExecuteAsync("DEBUG", "SLEEP", "3");
                // Until the command reaches Redis, Redis still answers: the outage starts when a PING goes unanswered.
                var waiting = Stopwatch.StartNew();
                while (_redis.AnswersPing(StalledAfter))
                    Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(2), "DEBUG SLEEP never stalled Redis");
            },
            () => stall!);
    }

    [Fact]
    public async Task Should_keep_answering_from_redis_when_latency_stays_under_the_call_timeout()
    {
        LookupsHarness.RegisterApp(_redis, WriteKey);
        using var proxy = TcpFaultProxy.Start("127.0.0.1", _redis.Port);
        await using var lookups = await LookupsHarness.StartAsync(proxy.EndPoint.ToString(), Settings);
        await lookups.WaitUntilVerifiedAsync(WriteKey);
        var timedOutBefore = CollectorMetrics.LookupCalls.WithLabels(AppRegistryActor.LookupName, "timed_out").Value;

        proxy.Latency(TimeSpan.FromMilliseconds(20));
        for (var i = 0; i < 10; i++)
        {
            var (verdict, elapsed) = await lookups.TimedCheckAsync(WriteKey);
            Assert.False(verdict.Unverified);
            Assert.True(elapsed >= TimeSpan.FromMilliseconds(20), $"latency not applied: {elapsed.TotalMilliseconds:F1} ms");
        }

        Assert.Equal(timedOutBefore, CollectorMetrics.LookupCalls.WithLabels(AppRegistryActor.LookupName, "timed_out").Value);
    }

    public void Dispose() => _redis.Dispose();

    private async Task RunOutageAsync(string redisEndpoint, Action breakRedis, Func<Task> healRedis)
    {
        LookupsHarness.RegisterApp(_redis, WriteKey);
        await using var lookups = await LookupsHarness.StartAsync(redisEndpoint, Settings);
        await lookups.WaitUntilVerifiedAsync(WriteKey);

        breakRedis();

        // 1. The first requests wait, at most one call-timeout each, while failures build up.
        for (var i = 0; i < LookupsHarness.MaxFailures; i++)
        {
            var (verdict, elapsed) = await lookups.TimedCheckAsync(WriteKey);
            output.WriteLine($"while the breakers close: {elapsed.TotalMilliseconds:F1} ms");
            Assert.Equal((null, true), (verdict.Rejection, verdict.Unverified));
            Assert.True(elapsed <= LookupsHarness.CallTimeout + CallTimeoutSlack,
                $"a lookup took {elapsed.TotalMilliseconds:F0} ms, more than the call-timeout allows");
        }

        // 2. The breakers are open: defaults at once.
        var unverifiedBefore = Defaults(AppRegistryActor.LookupName, "unverified");
        var skippedBefore = Defaults(RateLimitActor.LookupName, "skipped");
        var fast = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var (verdict, elapsed) = await lookups.TimedCheckAsync(WriteKey);
            Assert.Equal((null, true), (verdict.Rejection, verdict.Unverified));
            fast.Add(elapsed.TotalMilliseconds);
        }
        fast.Sort();
        output.WriteLine($"breakers open: median {fast[25]:F2} ms, p90 {fast[45]:F2} ms, max {fast[^1]:F2} ms");
        // "At once" means without waiting on Redis: a lookup that still called it would wait a call-timeout (250 ms)
        // every time, so the median would sit at or above it. Half of it leaves a loaded machine's scheduling delays
        // room (a quiet machine measures well under 1 ms) and still cannot be reached by one Redis wait.
        Assert.True(fast[25] < LookupsHarness.CallTimeout.TotalMilliseconds / 2, $"median {fast[25]:F2} ms with the breakers open");
        Assert.True(Defaults(AppRegistryActor.LookupName, "unverified") - unverifiedBefore >= 50);
        Assert.True(Defaults(RateLimitActor.LookupName, "skipped") - skippedBefore >= 50);

        // 3. Redis is back: after the reset timeout a trial call closes each breaker.
        await healRedis();
        var rateLimitOkBefore = CollectorMetrics.LookupCalls.WithLabels(RateLimitActor.LookupName, "ok").Value;
        var recovery = Stopwatch.StartNew();
        var verified = false;
        while (recovery.Elapsed < TimeSpan.FromSeconds(20))
        {
            verified = !(await lookups.TimedCheckAsync(WriteKey)).Verdict.Unverified;
            if (verified && CollectorMetrics.LookupCalls.WithLabels(RateLimitActor.LookupName, "ok").Value > rateLimitOkBefore)
                break;
            await Task.Delay(100);
        }
        output.WriteLine($"lookups resumed {recovery.Elapsed.TotalSeconds:F1} s after Redis was back");
        Assert.True(verified, "the app registry never answered again after Redis came back");
        Assert.True(CollectorMetrics.LookupCalls.WithLabels(RateLimitActor.LookupName, "ok").Value > rateLimitOkBefore,
            "the rate limiter never answered again after Redis came back");
        LookupsHarness.AssertOnlyFastBoundedCommands(_redis);
    }

    private static double Defaults(string lookup, string name) =>
        CollectorMetrics.LookupDefaultsUsed.WithLabels(lookup, name).Value;
}
