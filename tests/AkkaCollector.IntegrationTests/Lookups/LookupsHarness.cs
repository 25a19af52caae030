using System.Diagnostics;
using System.Net;
using Akka.Hosting;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Testing.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AkkaCollector.IntegrationTests.Lookups;

/// <summary>The lookups wired exactly as Program.cs wires them (AddCollectorLookups + WithCollectorLookups), in a host of their own.</summary>
internal sealed class LookupsHarness : IAsyncDisposable
{
    public const int MaxFailures = 3;
    public static readonly TimeSpan CallTimeout = TimeSpan.FromMilliseconds(250);
    // A command judged by its mean must have run this often: one call stalled for a whole call-timeout then moves the
    // mean by at most 0.25 ms, under the bar.
    private const int CostedCalls = 1000;
    private static readonly TimeSpan MeanCostBar = TimeSpan.FromMilliseconds(1);

    // The production call-timeout; a short reset so that recovery shows within seconds.
    private const string BreakerHocon = """
        collector.lookups.breaker {
          max-failures = 3
          call-timeout = 250ms
          reset-timeout = 1s
          max-reset-timeout = 4s
        }
        """;

    private readonly IHost _host;

    private LookupsHarness(IHost host) => _host = host;

    public IRequestLookups Lookups => _host.Services.GetRequiredService<IRequestLookups>();

    public static async Task<LookupsHarness> StartAsync(string redisEndpoint, IDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = redisEndpoint,
            ["Redis:KeyPrefix"] = "collector:",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddCollectorLookups(builder.Configuration);
        builder.Services.AddAkka("lookups-it", akka => akka
            .AddHocon(BreakerHocon, HoconAddMode.Prepend)
            .WithCollectorLookups());
        var host = builder.Build();
        await host.StartAsync();
        var actors = host.Services.GetRequiredService<LookupActorRefs>();
        var deadline = Stopwatch.StartNew();
        while (actors.Current is null && deadline.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(10);
        Assert.NotNull(actors.Current);
        var harness = new LookupsHarness(host);
        await harness.WaitUntilRedisAnswersAsync();
        return harness;
    }

    /// <summary>
    /// Waits until a lookup has been answered by Redis itself. The lookups connect in the background and, until then,
    /// answer their defaults by design (allowed, unverified): a test that counted on its first checks reaching Redis
    /// (a burst consumed, a 401) would otherwise depend on how fast a busy machine connects. The probe uses a write key
    /// and a client address (TEST-NET-1) that no test uses, so it takes nothing from any test's limits.
    /// </summary>
    private async Task WaitUntilRedisAnswersAsync()
    {
        var answeredBefore = RedisAnswers();
        var deadline = Stopwatch.StartNew();
        while (RedisAnswers() == answeredBefore && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await TimedCheckAsync("lookups-harness-probe", IPAddress.Parse("192.0.2.250"));
            if (RedisAnswers() == answeredBefore)
                await Task.Delay(50);
        }
        Assert.True(RedisAnswers() > answeredBefore, $"no lookup was answered by Redis within {deadline.Elapsed}");
    }

    private static double RedisAnswers() =>
        CollectorMetrics.LookupCalls.WithLabels(RateLimitActor.LookupName, "ok").Value +
        CollectorMetrics.LookupCalls.WithLabels(AppRegistryActor.LookupName, "ok").Value;

    public async Task<(LookupVerdict Verdict, TimeSpan Elapsed)> TimedCheckAsync(string writeKey, IPAddress? client = null)
    {
        var started = Stopwatch.GetTimestamp();
        var verdict = await Lookups.CheckAsync(writeKey, client, CancellationToken.None);
        return (verdict, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Waits until the registry verifies <paramref name="writeKey"/>: a collector that has just started may still be
    /// connecting to Redis, and meanwhile (by design) answers unverified.
    /// </summary>
    public async Task WaitUntilVerifiedAsync(string writeKey)
    {
        var deadline = Stopwatch.StartNew();
        LookupVerdict verdict;
        do
            verdict = (await TimedCheckAsync(writeKey)).Verdict;
        while (verdict.Unverified && deadline.Elapsed < TimeSpan.FromSeconds(5) && await Delay());
        Assert.Equal((null, false), (verdict.Rejection, verdict.Unverified));
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    /// <summary>Registers an app the way an operator would: a small hash at {prefix}app:{writeKey}.</summary>
    public static void RegisterApp(RedisServerProcess redis, string writeKey, params (string Field, string Value)[] fields)
    {
        using var connection = ConnectionMultiplexer.Connect(redis.EndPoint);
        connection.GetDatabase().HashSet($"collector:app:{writeKey}",
            fields.Append(("name", writeKey)).Select(f => new HashEntry(f.Item1, f.Item2)).ToArray());
    }

    /// <summary>
    /// The story's last lesson: no command of the collector may stall Redis. There, KEYS and ZREMRANGEBYRANK held Redis
    /// for 4+ seconds several times a day, and the breakers tripped under normal load. So:
    /// <list type="bullet">
    /// <item>none of those commands, nor any other that walks a whole key space, set or range, ever ran;</item>
    /// <item>no command held Redis for one breaker call-timeout (the test's own DEBUG SLEEP aside): a stall that long
    /// fails every lookup waiting behind it, which is what tripped the story's breakers;</item>
    /// <item>every command the collector ran <see cref="CostedCalls"/> times or more took under
    /// <see cref="MeanCostBar"/> per call in Redis's own mean: bounded work (measured here: 0.5-17 µs, 3 busy loops
    /// beside the tests).</item>
    /// </list>
    /// Not a single SLOWLOG entry over 10 ms: SLOWLOG times a command by the wall clock, and a loaded CI machine logged
    /// one over 10 ms although redis-server runs at a raised priority (here, under 3 busy loops, the slowest was 2.9 ms).
    /// A call the machine stalled moves a mean over <see cref="CostedCalls"/> calls by at most a call-timeout divided by
    /// their number, a command that costs milliseconds moves it by milliseconds.
    /// </summary>
    public static void AssertOnlyFastBoundedCommands(RedisServerProcess redis)
    {
        string[] banned = ["keys", "scan", "flushall", "flushdb", "zremrangebyrank", "smembers", "hscan", "zrange", "lrange"];
        var costs = redis.CommandCosts();
        Assert.Empty(costs.Select(c => c.Name).Intersect(banned));
        Assert.DoesNotContain(redis.SlowlogEntriesOver((long)CallTimeout.TotalMicroseconds),
            stall => !stall.Command.StartsWith("DEBUG", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(costs, c => c.Calls >= CostedCalls && c.MicrosPerCall >= MeanCostBar.TotalMicroseconds);
    }
}
