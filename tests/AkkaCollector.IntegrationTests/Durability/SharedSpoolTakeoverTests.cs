using AkkaCollector.IntegrationTests.Spooling;
using AkkaCollector.Rig.Traffic;
using AkkaCollector.Rig.Verification;
using AkkaCollector.Testing.Processes;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>
/// Collectors sharing one PostgreSQL spool, as real processes: a collector that is gone has its spools delivered by a
/// survivor, exactly once; a paused one that wakes after the takeover neither delivers nor writes; one that comes back
/// gets its spools handed back; and a database restart takes nobody's spool away.
/// </summary>
/// <remarks>One class: its tests run one after the other, not beside each other on a 2-core runner.</remarks>
public sealed class SharedSpoolTakeoverTests(PostgresServerFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresServerFixture>
{
    private const int Events = 400;
    private static readonly TimeSpan TakeoverBound = SharedSpool.TakeoverAfter * 3;
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_deliver_a_killed_collectors_spools_from_a_survivor_once_and_hand_them_back_when_it_returns()
    {
        await using var spool = await SharedSpool.StartAsync(postgres.Instance, "killed_owner");
        var (a, b) = await StartTwoWithKafkaDownAsync(spool);
        using var beforeKill = await SpoolAsync(a);

        Assert.True(a.Kill());
        await b.Current.WaitForLineAsync(line => line.Contains("Spool spool-a-", StringComparison.Ordinal) && line.Contains("taken over", StringComparison.Ordinal), TakeoverBound);
        // Back under the same id while b holds its spools (Kafka is still down, so b cannot have drained them).
        await a.RestartAsync();
        await a.Current.WaitForLineAsync(line => line.Contains("is held by another collector", StringComparison.Ordinal), TakeoverBound);
        Assert.Equal(0, SharedSpool.LinesWith(a, "recovered"));

        await spool.SetKafkaUpAsync();
        await a.Current.WaitForLineAsync(line => line.Contains("handed back", StringComparison.Ordinal), DeliveryTimeout);
        await b.Current.WaitForLineAsync(line => line.Contains("letting it go", StringComparison.Ordinal), DeliveryTimeout);
        using var afterReturn = await SendAsync(a, Producer.Sending(Events / 4, concurrency: 8));

        await AssertEveryAckOnceAsync(spool, beforeKill, afterReturn);
        output.WriteLine(string.Join('\n', b.Current.Lines.Select(l => l.Text).Where(l => l.Contains("spool-a-", StringComparison.Ordinal))));
        Assert.Equal(2, await b.MetricAsync("collector_spools_taken_over_total"));
        Assert.Equal(2, await b.MetricAsync("collector_spools_handed_back_total"));
        Assert.Equal(Events, await b.MetricAsync("collector_taken_over_events_delivered_total"));
        Assert.Equal(2, await b.MetricAsync("collector_spools_owned"));
        Assert.Equal(2, await a.MetricAsync("collector_spools_owned"));
    }

    [Fact]
    public async Task Should_exit_instead_of_delivering_or_writing_when_a_paused_owner_wakes_after_its_spools_were_taken_over()
    {
        await using var spool = await SharedSpool.StartAsync(postgres.Instance, "paused_owner");
        var a = await spool.StartCollectorAsync("a");
        var b = await spool.StartCollectorAsync("b");
        // Kafka stays up until a has delivered events through both its spoolers: they have read Kafka back, so what they
        // take next goes into its Kafka client, which holds it while Kafka is down (a spooler that has not read Kafka
        // back hands nothing over, and a woken owner holding nothing does not need to exit).
        using var delivered = await SendAsync(a, Producer.Sending(Events / 4, concurrency: 8));
        Assert.Empty(await new DeliveryCheck(output, delivered, spool.Audit).MissingAfterAsync(DeliveryTimeout));
        await spool.SetKafkaDownAsync();
        using var beforePause = await SpoolAsync(a);

        Assert.True(a.Signal(Signals.SIGSTOP));
        await b.Current.WaitForLineAsync(line => line.Contains("Spool spool-a-", StringComparison.Ordinal) && line.Contains("taken over", StringComparison.Ordinal), TakeoverBound);
        Assert.True(a.Signal(Signals.SIGCONT));

        // Its librdkafka still holds the batches it handed over before the pause: it ends before Kafka can take them.
        Assert.Equal(75, await a.WaitForExitAsync(TakeoverBound));
        output.WriteLine(a.Current.Output.Split('\n').Last(line => line.Contains("exiting with 75", StringComparison.Ordinal)));

        await spool.SetKafkaUpAsync();
        await AssertEveryAckOnceAsync(spool, delivered, beforePause);

        // Its process manager starts it again: it claims its spools once b has let them go, and takes events.
        await a.RestartAsync();
        using var afterRestart = await SendAsync(a, Producer.Sending(Events / 4, concurrency: 8));
        await AssertEveryAckOnceAsync(spool, delivered, beforePause, afterRestart);
    }

    [Fact]
    public async Task Should_keep_every_spool_with_its_owner_through_a_database_restart()
    {
        await using var spool = await SharedSpool.StartAsync(postgres.Instance, "database_restart");
        var (a, b) = await StartTwoWithKafkaDownAsync(spool);
        using var toA = await SpoolAsync(a);
        using var toB = await SpoolAsync(b);

        await postgres.Instance.RestartAsync();
        foreach (var collector in new[] { a, b })
            Assert.True(await WaitUntilAsync(() => SharedSpool.LinesWith(collector, "2 spools claimed again, 0 taken over") >= 1, TakeoverBound), collector.Output);
        // A takeover would come within TakeoverAfter of the restart: nothing may be taken over in that time.
        await Task.Delay(SharedSpool.TakeoverAfter);

        Assert.True(a.IsRunning && b.IsRunning);
        Assert.Equal(0, SharedSpool.LinesWith(a, "taken over:") + SharedSpool.LinesWith(b, "taken over:"));
        await spool.SetKafkaUpAsync();
        await AssertEveryAckOnceAsync(spool, toA, toB);
    }

    /// <summary>Collectors a and b on the shared spool, Kafka down: whatever they acknowledge stays in their spools.</summary>
    private static async Task<(CollectorProcess A, CollectorProcess B)> StartTwoWithKafkaDownAsync(SharedSpool spool)
    {
        var a = await spool.StartCollectorAsync("a");
        var b = await spool.StartCollectorAsync("b");
        await spool.SetKafkaDownAsync();
        return (a, b);
    }

    /// <summary>Sends <see cref="Events"/> events to <paramref name="collector"/>, each once, every one acknowledged.</summary>
    private static async Task<Ledger> SpoolAsync(CollectorProcess collector)
    {
        var ledger = await SendAsync(collector, Producer.Sending(Events, concurrency: 8) with { GiveUpAfter = TimeSpan.Zero });
        Assert.Equal(Events, ledger.AckedCount);
        return ledger;
    }

    /// <summary>Sends to <paramref name="collector"/> what <paramref name="options"/> say; returns what it was told.</summary>
    private static async Task<Ledger> SendAsync(CollectorProcess collector, LoadOptions options)
    {
        var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger, options);
        await producer.RunAsync(CancellationToken.None);
        return ledger;
    }

    private async Task AssertEveryAckOnceAsync(SharedSpool spool, params Ledger[] ledgers)
    {
        foreach (var ledger in ledgers)
        {
            var lost = await new DeliveryCheck(output, ledger, spool.Audit).MissingAfterAsync(DeliveryTimeout);
            Assert.Empty(lost);
        }
        Assert.True(await spool.Audit.WaitUntilReadToEndAsync(DeliveryTimeout), spool.Audit.ToString());
        output.WriteLine(spool.Audit.ToString());
        Assert.Equal(0, spool.Audit.Duplicates);
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(100);
        }
        return true;
    }
}
