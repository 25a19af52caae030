using System.Collections.Concurrent;
using AkkaCollector.Rig.Metrics;
using AkkaCollector.Testing.Deploy;

namespace AkkaCollector.Rig.LoadBalancer;

/// <summary>What HAProxy said of one collector at one moment.</summary>
/// <param name="Seconds">Seconds since the scenario started.</param>
/// <param name="Status">UP, DOWN, "UP 1/2" (failing checks, still in rotation), "DOWN 1/2" (passing checks, not back yet), MAINT...</param>
/// <param name="CheckDowns">UP to DOWN transitions since HAProxy started (chkdown).</param>
public sealed record LbSample(double Seconds, string Server, string Status, long CheckDowns);

/// <summary>
/// Reads HAProxy's stats (<c>/stats;csv</c>) once a second while a scenario runs: each collector's state in the load
/// balancer over time, and the latest front-end and back-end counters (answers 5xx, retries, redispatches).
/// A poll HAProxy does not answer is skipped.
/// </summary>
public sealed class LoadBalancerWatch : IAsyncDisposable
{
    /// <summary>The front end producers send to and the back end of collectors, as the template names them.</summary>
    public const string Frontend = "producers";

    public const string Backend = "collectors";

    private readonly HaproxyProcess _haproxy;
    private readonly Func<double> _clock;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMilliseconds(900) };
    private readonly ConcurrentQueue<LbSample> _samples = new();
    private readonly EverySecond _ticks;
    private IReadOnlyList<HaproxyStatsRow> _latest = [];

    public LoadBalancerWatch(HaproxyProcess haproxy, Func<double> clock)
    {
        _haproxy = haproxy;
        _clock = clock;
        _ticks = new EverySecond(PollAsync);
    }

    /// <summary>Every collector's state at every poll so far, in time order.</summary>
    public IReadOnlyList<LbSample> Samples => _samples.ToArray();

    /// <summary>The producers' front end at the latest poll.</summary>
    public HaproxyStatsRow? FrontendRow => _latest.FirstOrDefault(r => r.Proxy == Frontend && r.Name == "FRONTEND");

    /// <summary>The collectors' back end at the latest poll.</summary>
    public HaproxyStatsRow? BackendRow => _latest.FirstOrDefault(r => r.Proxy == Backend && r.Name == "BACKEND");

    /// <summary>Reads the stats now (also what the loop does each second).</summary>
    public async Task PollAsync()
    {
        var seconds = _clock();
        try
        {
            var rows = await _haproxy.StatsAsync(_http, _ticks.Stopping);
            _latest = rows;
            foreach (var server in rows.Where(r => r.Proxy == Backend && r.Name is not ("BACKEND" or "FRONTEND")))
                _samples.Enqueue(new LbSample(seconds, server.Name, server.Status, server.CheckDowns));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
        {
            // A missed poll leaves a gap; the counters are cumulative, so the next poll catches up.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _ticks.DisposeAsync();
        _http.Dispose();
    }
}
