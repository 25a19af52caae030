using AkkaCollector.IntegrationTests.Durability;
using AkkaCollector.Rig.Traffic;
using AkkaCollector.Rig.Verification;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>The load generator against a real collector process (embedded Kafka mock, SQLite spool in a temp folder).</summary>
public sealed class LoadGeneratorTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"rig-loadgen-{Guid.NewGuid():N}");
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(40);
    private const int Concurrency = 4;
    private CollectorProcess _collector = null!;

    private Uri CollectorUrl => new(_collector.BaseUrl);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());
    }

    public async Task DisposeAsync()
    {
        if (_collector.IsRunning)
            await _collector.StopAsync(StopTimeout);
        _collector.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(25)]
    public async Task Should_ledger_every_event_as_acked_when_the_collector_answers_200(int batch)
    {
        using var ledger = new Ledger(Path.Combine(_folder, $"ledger-{batch}.tsv"));
        using var generator = Producer.To(_collector, ledger, new LoadOptions { Rate = 0, Concurrency = Concurrency, BatchSize = batch, MaxEvents = 500, Duration = TimeSpan.FromSeconds(60) });

        var summary = await generator.RunAsync(CancellationToken.None);

        Assert.Equal(500, summary.EventsSent);
        Assert.Equal(500, summary.EventsAcked);
        Assert.Empty(summary.FailedEventsByCause);
        // Each request's own latency: ordered percentiles, none longer than the whole run, and (four workers, each always
        // waiting on an answer) a mean of about 4 x run / requests by Little's law, which the slowest cannot be far under.
        var latency = summary.Latency;
        Assert.True(latency.P50 > 0 && latency.P50 <= latency.P90 && latency.P90 <= latency.P99 && latency.P99 <= latency.P999 && latency.P999 <= latency.Max,
            $"percentiles out of order: {latency}");
        Assert.True(latency.Max <= summary.Elapsed.TotalMilliseconds, $"a request took {latency.Max} ms in a run of {summary.Elapsed}");
        var littlesMean = Concurrency * summary.Elapsed.TotalMilliseconds / summary.Requests;
        Assert.True(latency.Max >= littlesMean / 2, $"slowest request {latency.Max} ms, but {Concurrency} workers over {summary.Requests} requests in {summary.Elapsed} make a mean of {littlesMean:F1} ms");
        var fromFile = Ledger.ReadFile(ledger.Path!).ToArray();
        Assert.Equal(500, fromFile.Select(e => e.MessageId).Distinct().Count());
        Assert.All(fromFile, e => Assert.Equal(EventOutcome.Acked, e.Outcome));
    }

    [Fact]
    public async Task Should_ledger_connection_errors_with_their_kind_when_the_collector_is_gone()
    {
        _collector.Kill();
        await _collector.WaitForExitAsync(StopTimeout);
        using var ledger = new Ledger();
        using var generator = Producer.To(_collector, ledger, new LoadOptions { Rate = 0, Concurrency = 2, BatchSize = 5, MaxEvents = 20, Duration = TimeSpan.FromSeconds(30) });

        var summary = await generator.RunAsync(CancellationToken.None);

        Assert.Equal(0, summary.EventsAcked);
        Assert.Equal(4, summary.ConnectionErrors);
        Assert.All(ledger.Entries, e => Assert.Equal(("connection ConnectionRefused", EventOutcome.ConnectionError), (e.Cause, e.Outcome)));
    }

    [Fact]
    public async Task Should_send_a_refused_request_again_with_the_same_messageIds_to_the_next_collector_until_it_is_acked()
    {
        // One producer in turn: every request goes first to a port nothing listens on, then, sent again, to the collector.
        var nobody = new Uri($"http://127.0.0.1:{LoopbackPort.Free()}");
        using var ledger = new Ledger();
        using var generator = new LoadGenerator(
            new LoadOptions { Rate = 0, Concurrency = 1, BatchSize = 3, MaxEvents = 30, Duration = TimeSpan.FromSeconds(60), GiveUpAfter = TimeSpan.FromSeconds(30) },
            new TargetPool([nobody, CollectorUrl]), ledger, "retried");

        await generator.RunAsync(CancellationToken.None);

        var attempts = ledger.Entries.GroupBy(e => e.MessageId).ToList();
        Assert.Equal(30, attempts.Count);
        Assert.Equal(30, ledger.AckedCount);
        Assert.Empty(ledger.NeverAcked);
        Assert.All(attempts, events => Assert.Equal(
            [(nobody.Authority, EventOutcome.ConnectionError, "connection ConnectionRefused"), (CollectorUrl.Authority, EventOutcome.Acked, "ok")],
            events.Select(e => (e.Target, e.Outcome, e.Cause))));
        // An attempt ends after it starts, and starts no earlier than the traffic (the ledger's elapsed time is in whole milliseconds).
        Assert.All(ledger.Entries, e => Assert.InRange(e.LatencyMs, 0, e.ElapsedMs + 1));
    }

    [Fact]
    public async Task Should_send_each_new_run_its_own_events()
    {
        using var ledger = new Ledger();
        using var generator = Producer.To(_collector, ledger, new LoadOptions { Rate = 0, Concurrency = 2, BatchSize = 1, MaxEvents = 10, Duration = TimeSpan.FromSeconds(60) });

        await generator.RunAsync(CancellationToken.None);
        await generator.RunAsync(CancellationToken.None);

        Assert.Equal(20, ledger.AckedCount);
        Assert.Equal(20, ledger.Acked.Count);
    }

    [Fact]
    public async Task Should_stop_at_the_duration_when_the_rate_would_take_longer()
    {
        using var ledger = new Ledger();
        using var generator = Producer.To(_collector, ledger, new LoadOptions { Rate = 50, Concurrency = 2, BatchSize = 1, MaxEvents = 1_000_000, Duration = TimeSpan.FromSeconds(2) });

        var summary = await generator.RunAsync(CancellationToken.None);

        // Never ahead of the schedule (event n leaves at n/50 s, so at most 100 leave within 2 s, plus one per worker
        // deciding at the edge). How far below it a busy machine stays is not this test's business.
        Assert.InRange(summary.EventsSent, 1, 102);
        Assert.Equal(summary.EventsSent, ledger.Entries.Count);
        // The duration is a timer, and timers may fire a clock tick early against the stopwatch (1.9993 s was seen).
        Assert.InRange(summary.Elapsed, TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(15));
    }
}
