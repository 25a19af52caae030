using System.Diagnostics;
using AkkaCollector.Lookups;
using AkkaCollector.Rig.Metrics;

namespace AkkaCollector.IntegrationTests.EndToEnd;

/// <summary>One health check as a load balancer would make it: when, which path, the status (null: no answer) and how long it took.</summary>
internal sealed record HealthPoll(DateTimeOffset At, string Path, int? Status, TimeSpan Elapsed, string? Error);

/// <summary>The breaker gauges of one <c>/metrics</c> scrape, by lookup (rate_limit, app_registry): 0 closed, 1 half-open, 2 open.</summary>
internal sealed record BreakerSample(DateTimeOffset At, IReadOnlyDictionary<string, int> States)
{
    public bool All(BreakerPosition position) =>
        States.Count > 0 && States.Values.All(state => state == (int)position);
}

/// <summary>
/// Watches a running collector from outside, as its load balancer and Prometheus do: polls <c>/health/live</c> and
/// <c>/health/ready</c> in turn on a thread of its own (so the test's thread pool cannot delay a poll and blame the
/// collector), and scrapes the breaker gauges from <c>/metrics</c>. Keeps every answer with its timing.
/// </summary>
internal sealed class CollectorWatch : IAsyncDisposable
{
    private static readonly string[] HealthPaths = ["/health/live", "/health/ready"];
    private static readonly TimeSpan HealthInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ScrapeInterval = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource _stop = new();
    private readonly List<HealthPoll> _health = [];
    private readonly List<BreakerSample> _breakers = [];
    private readonly HttpClient _http;
    private readonly Thread _healthThread;
    private readonly Task _scraping;

    private CollectorWatch(string baseUrl)
    {
        _http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(2) };
        _healthThread = new Thread(PollHealth) { IsBackground = true, Name = "health-poll" };
        _healthThread.Start();
        _scraping = Task.Run(ScrapeBreakersAsync);
    }

    public IReadOnlyList<HealthPoll> HealthPolls
    {
        get
        {
            lock (_health)
                return _health.ToArray();
        }
    }

    public IReadOnlyList<BreakerSample> BreakerSamples
    {
        get
        {
            lock (_breakers)
                return _breakers.ToArray();
        }
    }

    public static CollectorWatch Start(string baseUrl) => new(baseUrl);

    /// <summary>The first scrape at or after <paramref name="since"/> where every breaker is in <paramref name="position"/>; null if none within <paramref name="timeout"/>.</summary>
    public async Task<BreakerSample?> WaitForBreakersAsync(BreakerPosition position, DateTimeOffset since, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (BreakerSamples.FirstOrDefault(sample => sample.At >= since && sample.All(position)) is { } sample)
                return sample;
            await Task.Delay(ScrapeInterval);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _healthThread.Join();
        await _scraping;
        _http.Dispose();
        _stop.Dispose();
    }

    private void PollHealth()
    {
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var path = HealthPaths[i % HealthPaths.Length];
            var at = DateTimeOffset.UtcNow;
            var started = Stopwatch.GetTimestamp();
            HealthPoll poll;
            try
            {
                using var response = _http.Send(new HttpRequestMessage(HttpMethod.Get, path));
                poll = new HealthPoll(at, path, (int)response.StatusCode, Stopwatch.GetElapsedTime(started), null);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                poll = new HealthPoll(at, path, null, Stopwatch.GetElapsedTime(started), e.Message);
            }
            lock (_health)
                _health.Add(poll);
            _stop.Token.WaitHandle.WaitOne(HealthInterval);
        }
    }

    private async Task ScrapeBreakersAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var at = DateTimeOffset.UtcNow;
            try
            {
                var text = await _http.GetStringAsync("/metrics", _stop.Token);
                var states = BreakerStates.From(PrometheusText.Parse(text, "collector_")).ToDictionary(b => b.Key, b => (int)b.Value);
                lock (_breakers)
                    _breakers.Add(new BreakerSample(at, states));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // A missed scrape is a gap in the samples, which the assertions on timing tolerate.
            }
            try
            {
                await Task.Delay(ScrapeInterval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
