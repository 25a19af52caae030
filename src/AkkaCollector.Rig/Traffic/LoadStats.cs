using System.Collections.Concurrent;
using HdrHistogram;

namespace AkkaCollector.Rig.Traffic;

/// <summary>Live counters of a traffic run, updated by every worker; <see cref="Snapshot"/> reads them consistently enough for progress and the summary.</summary>
public sealed class LoadStats
{
    private static readonly long HighestLatencyMicros = TimeSpan.FromMinutes(5).Ticks / TimeSpan.TicksPerMicrosecond;
    private readonly LongConcurrentHistogram _latencyMicros = new(1, HighestLatencyMicros, 3);
    private readonly ConcurrentDictionary<string, long> _failedEventsByCause = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(int Second, long Micros)> _latencyTimeline = new();
    private readonly long _startedTimestamp = TimeProvider.System.GetTimestamp();
    private long _requests;
    private long _eventsSent;
    private long _eventsAcked;
    private long _events4xx;
    private long _events5xx;
    private long _connectionErrors;

    /// <summary>The wall-clock time the ledger's milliseconds count from.</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed => TimeProvider.System.GetElapsedTime(_startedTimestamp);

    internal void Answered(int status, int events, TimeSpan latency, string cause)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _eventsSent, events);
        var micros = Math.Clamp(latency.Ticks / TimeSpan.TicksPerMicrosecond, 1, HighestLatencyMicros);
        _latencyMicros.RecordValue(micros);
        // A few bytes per request, next to the ledger's entry per event: cheap enough to keep them all.
        _latencyTimeline.Enqueue(((int)Elapsed.TotalSeconds, micros));
        if (status == 200)
        {
            Interlocked.Add(ref _eventsAcked, events);
            return;
        }
        Interlocked.Add(ref status >= 500 ? ref _events5xx : ref _events4xx, events);
        _failedEventsByCause.AddOrUpdate(cause, events, (_, n) => n + events);
    }

    internal void Failed(int events, string cause)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _eventsSent, events);
        Interlocked.Increment(ref _connectionErrors);
        _failedEventsByCause.AddOrUpdate(cause, events, (_, n) => n + events);
    }

    /// <summary>The counters as of now.</summary>
    public LoadSnapshot Snapshot()
    {
        var elapsed = Elapsed;
        var acked = Interlocked.Read(ref _eventsAcked);
        var latency = _latencyMicros.Copy();
        return new LoadSnapshot(
            elapsed, Interlocked.Read(ref _requests), Interlocked.Read(ref _eventsSent), acked,
            Interlocked.Read(ref _events4xx), Interlocked.Read(ref _events5xx), Interlocked.Read(ref _connectionErrors),
            new SortedDictionary<string, long>(_failedEventsByCause, StringComparer.Ordinal),
            latency.TotalCount == 0 ? LatencySummary.None : new LatencySummary(
                Millis(latency.GetValueAtPercentile(50)), Millis(latency.GetValueAtPercentile(90)), Millis(latency.GetValueAtPercentile(99)),
                Millis(latency.GetValueAtPercentile(99.9)), Millis(latency.GetMaxValue())),
            elapsed.TotalSeconds > 0 ? acked / elapsed.TotalSeconds : 0);
    }

    /// <summary>
    /// The <paramref name="percentile"/> latency (ms) of the requests answered in each second since the start, for
    /// the report's latency chart; seconds without an answer are left out.
    /// </summary>
    public (int Second, double Millis)[] PercentileBySecond(double percentile) =>
        _latencyTimeline.GroupBy(sample => sample.Second).OrderBy(second => second.Key)
            .Select(second =>
            {
                var sorted = second.Select(sample => sample.Micros).Order().ToArray();
                var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
                return (second.Key, Millis(sorted[Math.Clamp(rank, 0, sorted.Length - 1)]));
            })
            .ToArray();

    private static double Millis(long micros) => micros / 1000.0;
}

/// <summary>Counters of a traffic run at one moment. Failures are counted in events, by cause.</summary>
public sealed record LoadSnapshot(
    TimeSpan Elapsed, long Requests, long EventsSent, long EventsAcked, long Events4xx, long Events5xx, long ConnectionErrors,
    IReadOnlyDictionary<string, long> FailedEventsByCause, LatencySummary Latency, double AckedPerSecond);

/// <summary>Request latency percentiles in milliseconds (HdrHistogram, 3 significant digits).</summary>
public sealed record LatencySummary(double P50, double P90, double P99, double P999, double Max)
{
    public static readonly LatencySummary None = new(0, 0, 0, 0, 0);
}
