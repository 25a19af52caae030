using AkkaCollector.Rig.Traffic;
using AkkaCollector.Testing.Repository;
using Spectre.Console;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// <c>bench --lookups</c>: what the request-path lookups cost, in one run and with the same bodies (single events, each
/// with its device's address in X-Forwarded-For): the collector without lookups, a second collector with every lookup
/// on (rate limit and app registry in Redis behind a TCP fault proxy, geo from MaxMind's test database), and that
/// collector again with Redis black-holed, its breakers open and its lookups answering their defaults.
/// </summary>
internal sealed partial class BenchRun
{
    /// <summary>Write keys the bodies use (<see cref="EventFactory"/>), all registered as apps before the lookups phases.</summary>
    private const int WriteKeys = 50;
    private const string KeyPrefix = "collector:";
    /// <summary>Per write key and per address: far above what 64 connections send, so every lookup runs and none rejects.</summary>
    private const string UnreachableRate = "1000000";
    /// <summary>Load before the black-hole phase, unmeasured: long enough for the breakers to pay their call-timeouts and open.</summary>
    private static readonly TimeSpan BreakerWarmUp = TimeSpan.FromSeconds(3);
    private BenchCollector? _lookupsCollector;
    private RedisBehindProxy? _redis;

    private async Task MeasureLookupsAsync(CancellationToken stop)
    {
        var d = settings.Duration;
        var geo = RepositoryPaths.GeoIpCityDatabase;
        _redis = RedisBehindProxy.Start();
        _redis.RegisterApps(Enumerable.Range(0, WriteKeys).Select(EventFactory.WriteKey), KeyPrefix);
        console.MarkupLine(Markup.Escape($"redis-server pid {_redis.ServerPid} behind the fault proxy at {_redis.Configuration}; {WriteKeys} apps registered; geo: {geo}"));
        var configuration = new Dictionary<string, string>(CollectorConfiguration())
        {
            ["Redis__Configuration"] = _redis.Configuration,
            ["Redis__KeyPrefix"] = KeyPrefix,
            ["AppRegistry__Enabled"] = "true",
            ["RateLimit__PerWriteKey__Rate"] = UnreachableRate,
            ["RateLimit__PerWriteKey__Burst"] = UnreachableRate,
            ["RateLimit__PerClientIp__Rate"] = UnreachableRate,
            ["RateLimit__PerClientIp__Burst"] = UnreachableRate,
            ["Geo__DatabasePath"] = geo,
        };
        _lookupsCollector = await StartCollectorAsync("collector-lookups", configuration, stop);
        var redisProbe = new ProcessProbe(_redis.ServerPid);

        await WarmUpAsync(_collector!, [("/v1/track", _lookupBodies, 64)], stop);
        await WarmUpAsync(_lookupsCollector, [("/v1/track", _lookupBodies, 64)], stop);
        var off = await MeasureCollectorAsync(_collector!, "lookups-off", Track(_collector!, d), 1, stop);
        var on = await MeasureCollectorAsync(_lookupsCollector, "lookups-on", Track(_lookupsCollector, d), 1, stop, new LookupWatch(redisProbe));

        _redis.BlackHole();
        await new WrkLoad(_lookupsCollector.Url("/v1/track"), _lookupBodies, 64, BreakerWarmUp).RunAsync(stop);
        var blackHole = await MeasureCollectorAsync(_lookupsCollector, "lookups-blackhole", Track(_lookupsCollector, d), 1, stop, new LookupWatch(redisProbe));
        _redis.Pass();

        _ratios.Add(PhaseRatio("lookups on ÷ lookups off", on, off));
        _ratios.Add(PhaseRatio("Redis black hole ÷ lookups off", blackHole, off));
        _targets.Add(new BenchTarget("lookups on: every request answered 2xx, no lookup answered by its default",
            $"{Answered(on)}; {on.Lookups!.DefaultsUsed:0} defaults used", "-", Clean(on) && on.Lookups.DefaultsUsed == 0));
        _targets.Add(new BenchTarget("Redis black-holed: every request answered 2xx, breakers open, lookups answer their defaults",
            $"{Answered(blackHole)}; {blackHole.Lookups!.DefaultsUsed:0} defaults used; {blackHole.Lookups.BreakersOpen} breakers open or half-open at the end",
            "-", Clean(blackHole) && blackHole.Lookups.DefaultsUsed > 0 && blackHole.Lookups.BreakersOpen > 0));
    }

    private WrkLoad Track(BenchCollector collector, TimeSpan duration) => new(collector.Url("/v1/track"), _lookupBodies, 64, duration);

    /// <summary>Events/s end to end (acknowledged when there is none), p99 and CPU per event of <paramref name="phase"/> over <paramref name="baseline"/>.</summary>
    private static BenchRatio PhaseRatio(string name, BenchPhase phase, BenchPhase baseline)
    {
        (double Phase, double Baseline, string Kind) rate = phase.EndToEnd is { } e && baseline.EndToEnd is { } b
            ? (e, b, "end to end")
            : (phase.Acked, baseline.Acked, "acked");
        return new BenchRatio(name,
            $"{BenchReport.Number(rate.Phase)} / {BenchReport.Number(rate.Baseline)} ev/s {rate.Kind}; p99 {BenchReport.Millis(phase.P99Ms)} / {BenchReport.Millis(baseline.P99Ms)} ms; " +
            $"CPU {BenchReport.Number(phase.CpuPerEvent)} / {BenchReport.Number(baseline.CpuPerEvent)} µs/event",
            BenchReport.Percent(rate.Phase / rate.Baseline), $"{phase.P99Ms / baseline.P99Ms:0.00}x", $"{phase.CpuPerEvent / baseline.CpuPerEvent:0.00}x");
    }

    private static bool Clean(BenchPhase phase) => phase.Failed == 0 && phase.EndToEnd is not null;

    private static string Answered(BenchPhase phase) =>
        Clean(phase) ? "every request 2xx, all delivered" : "errors or undelivered events (see the phase's notes)";
}
