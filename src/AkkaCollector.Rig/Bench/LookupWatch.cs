using System.Diagnostics;
using System.Globalization;
using AkkaCollector.Rig.Metrics;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// What the lookups did during one phase, from the collector's own counters: calls per lookup and outcome, defaults
/// used instead of an answer, and each breaker's state at the end; and the CPU of what a lookup costs outside the
/// collector: redis-server, and this rig's process, which runs the TCP fault proxy every Redis byte goes through.
/// A sample of the phase's last records in Kafka shows that geo-coding found the addresses it knows.
/// </summary>
internal sealed class LookupWatch(ProcessProbe redis)
{
    private const int SampledPerPartition = 50;
    private IReadOnlyList<PrometheusSample> _before = [];
    private TimeSpan _redisCpu;
    private TimeSpan _rigCpu;

    public async Task StartAsync(CollectorGauges gauges, CancellationToken stop)
    {
        _before = await gauges.LookupSamplesAsync(stop);
        _redisCpu = redis.CpuTime() ?? TimeSpan.Zero;
        _rigCpu = Process.GetCurrentProcess().TotalProcessorTime;
    }

    /// <summary>The phase's lookup figures: CPU beside the collector's, and the notes.</summary>
    public async Task<LookupFigures> EndAsync(CollectorGauges gauges, TimeSpan wall, CancellationToken stop)
    {
        var after = await gauges.LookupSamplesAsync(stop);
        var redisCpu = (redis.CpuTime() ?? _redisCpu) - _redisCpu;
        var rigCpu = Process.GetCurrentProcess().TotalProcessorTime - _rigCpu;
        var calls = Deltas(after, "collector_lookup_calls_total", "outcome");
        var defaults = Deltas(after, "collector_lookup_defaults_used_total", "default");
        // Half-open counts as open: during an outage a breaker is half-open only for its one trial call.
        var open = BreakerStates.From(after).Where(b => b.Value >= 1).Select(b => b.Key).ToList();
        var (sampled, located) = gauges.SampleLocated(SampledPerPartition);
        var notes = $"calls: {Describe(calls)}; defaults used: {(defaults.Count == 0 ? "none" : Describe(defaults))}; " +
                    $"breakers open at the end: {(open.Count == 0 ? "none" : string.Join(", ", open))}; " +
                    $"geo-located: {located} of the last {sampled} records in Kafka";
        return new LookupFigures($"redis {Share(redisCpu, wall):0}, rig+proxy {Share(rigCpu, wall):0}", notes,
            defaults.Sum(d => d.Count), open.Count);
    }

    private List<(string Lookup, string Kind, double Count)> Deltas(IReadOnlyList<PrometheusSample> after, string metric, string kindLabel) =>
        after.Where(s => s.Name == metric)
            .Select(s => (Lookup: s.Label("lookup"), Kind: s.Label(kindLabel), Count: s.Value - Before(metric, s.Label("lookup"), kindLabel, s.Label(kindLabel))))
            .Where(d => d.Count > 0)
            .OrderBy(d => d.Lookup, StringComparer.Ordinal).ThenBy(d => d.Kind, StringComparer.Ordinal)
            .ToList();

    private double Before(string metric, string lookup, string kindLabel, string kind) =>
        _before.FirstOrDefault(s => s.Name == metric && s.Label("lookup") == lookup && s.Label(kindLabel) == kind)?.Value ?? 0;

    private static string Describe(IEnumerable<(string Lookup, string Kind, double Count)> deltas) =>
        string.Join(", ", deltas.Select(d => $"{d.Lookup} {d.Kind} {d.Count.ToString("0", CultureInfo.InvariantCulture)}"));

    private static double Share(TimeSpan cpu, TimeSpan wall) => wall > TimeSpan.Zero ? cpu / wall * 100 : 0;
}

/// <summary>One phase's lookup figures.</summary>
/// <param name="OtherCpu">redis-server's and the rig's (fault proxy) CPU, in % of one core.</param>
/// <param name="DefaultsUsed">Lookups answered by their declared default instead of Redis.</param>
/// <param name="BreakersOpen">Breakers open when the phase ended.</param>
public sealed record LookupFigures(string OtherCpu, string Notes, double DefaultsUsed, int BreakersOpen);
