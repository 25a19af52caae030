using System.Collections.Concurrent;
using System.Globalization;
using AkkaCollector.Rig.Scenarios;

namespace AkkaCollector.Rig.Metrics;

/// <summary>What one scrape of one collector said, reduced to the series the report draws.</summary>
/// <param name="Seconds">Seconds since the scenario started.</param>
/// <param name="Up">False when the collector did not answer (stopped, killed, or too slow).</param>
/// <param name="ServerErrorsByCause">collector_http_requests_total of 5xx answers, per cause.</param>
/// <param name="Breakers">collector_breaker_state per lookup: 0 closed, 1 half-open, 2 open.</param>
public sealed record CollectorScrape(
    double Seconds, string Collector, string Zone, bool Up, double Accepted, double Delivered, double Backlog,
    IReadOnlyDictionary<string, double> ServerErrorsByCause, IReadOnlyDictionary<string, double> Breakers);

/// <summary>
/// Scrapes every collector's /metrics once a second while a scenario runs, as the story's dashboard did, and keeps
/// every scrape for the report. A collector that does not answer within the interval is recorded as down.
/// </summary>
public sealed class MetricsScraper : IAsyncDisposable
{
    private readonly IReadOnlyList<CollectorNode> _collectors;
    private readonly Func<double> _clock;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMilliseconds(900) };
    private readonly ConcurrentQueue<CollectorScrape> _scrapes = new();
    private readonly EverySecond _ticks;

    public MetricsScraper(IReadOnlyList<CollectorNode> collectors, Func<double> clock)
    {
        _collectors = collectors;
        _clock = clock;
        _ticks = new EverySecond(ScrapeAllAsync);
    }

    /// <summary>Every scrape so far, in time order per collector.</summary>
    public IReadOnlyList<CollectorScrape> Scrapes => _scrapes.ToArray();

    /// <summary>The latest scrape of each collector that answered.</summary>
    public IReadOnlyDictionary<string, CollectorScrape> Latest() =>
        _scrapes.Where(s => s.Up).GroupBy(s => s.Collector).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    /// <summary>Scrapes every collector now (also what the loop does each second).</summary>
    public Task ScrapeAllAsync() => Task.WhenAll(_collectors.Select(ScrapeAsync));

    public async ValueTask DisposeAsync()
    {
        await _ticks.DisposeAsync();
        _http.Dispose();
    }

    private async Task ScrapeAsync(CollectorNode collector)
    {
        var seconds = _clock();
        string text;
        try
        {
            text = collector.Pid is null ? "" : await _http.GetStringAsync(new Uri(collector.Url, "/metrics"), _ticks.Stopping);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            text = "";
        }

        if (text.Length == 0)
        {
            _scrapes.Enqueue(new CollectorScrape(seconds, collector.Name, collector.Zone, false, 0, 0, 0,
                new Dictionary<string, double>(), new Dictionary<string, double>()));
            return;
        }

        var counters = CollectorCounters.Parse(text);
        var samples = PrometheusText.Parse(text, "collector_").ToList();
        var errors = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var sample in samples.Where(s => s.Name == "collector_http_requests_total"))
        {
            if (int.TryParse(sample.Label("status"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var status) && status >= 500)
                errors[sample.Label("cause")] = errors.GetValueOrDefault(sample.Label("cause")) + sample.Value;
        }
        _scrapes.Enqueue(new CollectorScrape(seconds, collector.Name, collector.Zone, true, counters.Accepted, counters.Delivered, counters.Backlog, errors,
            BreakerStates.From(samples)));
    }
}
