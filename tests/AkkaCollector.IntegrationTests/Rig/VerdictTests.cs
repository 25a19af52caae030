using AkkaCollector.Rig.LoadBalancer;
using AkkaCollector.Rig.Scenarios;
using AkkaCollector.Rig.Traffic;
using AkkaCollector.Rig.Verification;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>The arithmetic of a run's verdict: the ledger against what Kafka held.</summary>
public sealed class VerdictTests
{
    private static LedgerEntry Acked(string id) => new(0, "127.0.0.1:1", id, EventOutcome.Acked, 200, "ok", LatencyMs: 2.5);

    private static LedgerEntry Failed(string id, EventOutcome outcome, int status, string cause) => new(0, "127.0.0.1:1", id, outcome, status, cause, LatencyMs: 0.125);

    private static Func<string, int> Kafka(params (string Id, int Copies)[] copies)
    {
        var seen = copies.ToDictionary(c => c.Id, c => c.Copies);
        return id => seen.GetValueOrDefault(id);
    }

    [Fact]
    public void Should_count_an_acked_event_missing_from_Kafka_as_lost()
    {
        var verdict = Verdict.Compute([Acked("m1"), Acked("m2"), Acked("m3")], Kafka(("m1", 1), ("m3", 1)));

        Assert.Equal(3, verdict.Acked);
        Assert.Equal(1, verdict.Lost);
        Assert.Equal(["m2"], verdict.LostSample);
        Assert.Equal("lost=1 duplicates=0 acked=3", verdict.Line);
    }

    [Fact]
    public void Should_count_extra_copies_as_duplicates_and_not_as_lost()
    {
        var verdict = Verdict.Compute([Acked("m1"), Acked("m2")], Kafka(("m1", 3), ("m2", 1)));

        Assert.Equal(0, verdict.Lost);
        Assert.Equal(2, verdict.Duplicates);
        Assert.Equal("lost=0 duplicates=2 acked=2", verdict.Line);
    }

    [Fact]
    public void Should_group_not_acked_events_by_cause_and_count_those_delivered_anyway()
    {
        var ledger = new[]
        {
            Acked("m1"),
            Failed("m2", EventOutcome.Rejected, 503, "503 the collector's spool is full; retry later"),
            Failed("m3", EventOutcome.Rejected, 503, "503 the collector's spool is full; retry later"),
            Failed("m4", EventOutcome.ConnectionError, 0, "connection timeout"),
        };

        var verdict = Verdict.Compute(ledger, Kafka(("m1", 1), ("m4", 2)));

        Assert.Equal(1, verdict.Acked);
        Assert.Equal(3, verdict.NotAcked);
        Assert.Equal(2, verdict.NotAckedByCause["503 the collector's spool is full; retry later"]);
        Assert.Equal(1, verdict.NotAckedByCause["connection timeout"]);
        Assert.Equal(1, verdict.DeliveredWithoutAck);
        Assert.Equal(1, verdict.Duplicates);
        Assert.Equal(0, verdict.Lost);
    }

    [Fact]
    public void Should_count_an_event_acked_on_a_retry_as_acked_and_not_as_failed()
    {
        var ledger = new[] { Failed("m1", EventOutcome.ConnectionError, 0, "connection ConnectionRefused"), Acked("m1") };

        var verdict = Verdict.Compute(ledger, Kafka(("m1", 1)));

        Assert.Equal(1, verdict.Acked);
        Assert.Equal(0, verdict.NotAcked);
        Assert.Equal(0, verdict.Lost);
    }

    [Theory]
    [InlineData(1, true, 1)]
    [InlineData(0, false, 1)]
    [InlineData(0, true, 0)]
    public void Should_exit_0_only_when_nothing_acked_was_lost_and_every_step_ran(int lost, bool allStepsRan, int exitCode)
    {
        // CI fails the build on this exit code.
        LedgerEntry[] ledger = [Acked("m1"), Acked("m2")];
        var verdict = Verdict.Compute(ledger, Kafka(("m1", 1), ("m2", 1 - lost)));

        Assert.Equal(exitCode, new ScenarioResult(verdict, Acceptance.Compute(ledger, []), allStepsRan, "run").ExitCode);
    }

    [Theory]
    [InlineData(1, 0, 0, 1)]
    [InlineData(0, 1, 0, 1)]
    [InlineData(0, 0, 1, 1)]
    [InlineData(0, 0, 0, 0)]
    public void Should_fail_a_run_whose_producers_saw_a_5xx_or_no_answer_or_whose_load_balancer_marked_a_running_collector_down(
        int serverErrors, int markedDown, int notAnswered, int exitCode)
    {
        LedgerEntry[] ledger = [Acked("m1")];
        var figures = new LbFigures(serverErrors, markedDown, notAnswered, Retries: 3, Redispatches: 3, []);

        var result = new ScenarioResult(Verdict.Compute(ledger, Kafka(("m1", 1))), Acceptance.Compute(ledger, []), AllStepsRan: true, "run", LoadBalancer: figures);

        Assert.Equal(exitCode, result.ExitCode);
    }

    [Theory]
    [InlineData(401, "401 unknown write key")]
    [InlineData(503, "503 the collector's spool is full; retry later")]
    [InlineData(500, "500")]
    public void Should_fail_a_run_whose_collectors_answered_every_request_with_an_error(int status, string cause)
    {
        // Nothing acked, so nothing lost: the verdict alone would pass it.
        var ledger = Enumerable.Range(0, 100).Select(i => Failed($"m{i}", EventOutcome.Rejected, status, cause)).ToArray();
        var verdict = Verdict.Compute(ledger, Kafka());

        var result = new ScenarioResult(verdict, Acceptance.Compute(ledger, []), AllStepsRan: true, "run");

        Assert.Equal(0, verdict.Lost);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public void Should_fail_a_run_that_acked_far_less_than_it_sent_outside_the_refusing_steps()
    {
        // One collector of two answers 5xx to everything: half the traffic acked.
        var ledger = Enumerable.Range(0, 100).Select(i => i % 2 == 0
            ? Acked($"m{i}")
            : Failed($"m{i}", EventOutcome.Rejected, 503, "503 the journal write failed; retry later")).ToArray();

        var acceptance = Acceptance.Compute(ledger, []);

        Assert.Equal(new Acceptance(Sent: 100, Acked: 50), acceptance);
        Assert.Equal(1, new ScenarioResult(Verdict.Compute(ledger, id => 1), acceptance, AllStepsRan: true, "run").ExitCode);
    }

    [Fact]
    public void Should_not_count_what_a_collector_refused_while_a_step_killed_or_restarted_it()
    {
        // b1 (127.0.0.1:2) was killed at 1 s and live again at 3 s: its refusals then are the step's doing.
        var ledger = new[]
        {
            new LedgerEntry(500, "127.0.0.1:1", "m1", EventOutcome.Acked, 200, "ok", LatencyMs: 1),
            new LedgerEntry(500, "127.0.0.1:2", "m2", EventOutcome.Acked, 200, "ok", LatencyMs: 1),
            new LedgerEntry(1_500, "127.0.0.1:1", "m3", EventOutcome.Acked, 200, "ok", LatencyMs: 1),
            new LedgerEntry(1_500, "127.0.0.1:2", "m4", EventOutcome.ConnectionError, 0, "connection ConnectionRefused", LatencyMs: 1),
            new LedgerEntry(2_500, "127.0.0.1:2", "m5", EventOutcome.ConnectionError, 0, "connection ConnectionRefused", LatencyMs: 1),
            new LedgerEntry(3_500, "127.0.0.1:2", "m6", EventOutcome.Acked, 200, "ok", LatencyMs: 1),
        };

        var acceptance = Acceptance.Compute(ledger, [new RefusalWindow("127.0.0.1:2", 1_000, 3_000)]);

        Assert.Equal(new Acceptance(Sent: 4, Acked: 4), acceptance);
        Assert.True(acceptance.Enough);
        Assert.Equal(0, new ScenarioResult(Verdict.Compute(ledger, id => 1), acceptance, AllStepsRan: true, "run").ExitCode);
    }

    [Fact]
    public void Should_read_back_every_entry_of_a_ledger_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ledger-{Guid.NewGuid():N}.tsv");
        var written = new[]
        {
            Acked("m1"),
            Failed("m2", EventOutcome.Rejected, 400, "400 userId or anonymousId is required\twith a tab"),
            Failed("m3", EventOutcome.ConnectionError, 0, "connection ConnectionRefused"),
        };
        try
        {
            using (var ledger = new Ledger(path))
                ledger.Record(written);

            var read = Ledger.ReadFile(path).ToArray();

            Assert.Equal(written.Select(e => (e.MessageId, e.Outcome, e.Status, e.LatencyMs)), read.Select(e => (e.MessageId, e.Outcome, e.Status, e.LatencyMs)));
            Assert.Equal("400 userId or anonymousId is required with a tab", read[1].Cause);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("http://10.0.0.5:8080")]
    [InlineData("http://example.com")]
    [InlineData("ftp://127.0.0.1:21")]
    public void Should_refuse_to_send_traffic_anywhere_but_loopback(string url)
    {
        Assert.Throws<ArgumentException>(() => TargetPool.Parse($"http://127.0.0.1:8080,{url}"));
    }

    [Fact]
    public void Should_take_targets_in_turn_like_a_round_robin_load_balancer()
    {
        var pool = TargetPool.Parse("http://127.0.0.1:1,http://localhost:2,http://[::1]:3");

        var picked = Enumerable.Range(0, 6).Select(_ => pool.Next().Port).ToArray();

        Assert.Equal([1, 2, 3, 1, 2, 3], picked);
    }
}
