using AkkaCollector.Observability;
using AkkaCollector.Rig.LoadBalancer;
using AkkaCollector.Rig.Metrics;
using AkkaCollector.Rig.Report;
using AkkaCollector.Rig.Scenarios;
using AkkaCollector.Rig.Traffic;
using AkkaCollector.Rig.Verification;
using AkkaCollector.Shutdown;
using AkkaCollector.Testing.Deploy;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;
using AkkaCollector.Testing.Repository;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>What the rig writes tells the truth: reports, charts, logs, ledgers and tables.</summary>
public sealed class RigOutputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("rig-output-").FullName;

    private static string RigDll => Path.Combine(AppContext.BaseDirectory, "AkkaCollector.Rig.dll");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Should_say_in_the_report_that_a_declined_step_stopped_the_run_and_its_events_are_still_spooled()
    {
        var scenario = Scenario.Load(ScenarioVerb.Resolve("az-outage"));
        var verdict = new Verdict(Acked: 5000, Lost: 2070, Duplicates: 0, NotAcked: 0, new Dictionary<string, int>(), 0, []);
        const string declined = "step 3/14 (isolate b from kafka+redis (blackhole)) was declined by the operator under --confirm";

        var report = File.ReadAllText(RunReport.Write(new RunReportInput(
            scenario, new RunSettings(TimeSpan.FromSeconds(45), Confirm: true, _folder), verdict, new Acceptance(Sent: 5000, Acked: 5000), AllStepsRan: false, Traffic: null,
            [], [], [], [], TrafficStartedAt: 0, EndedAt: 10, StoppedBecause: declined)));

        Assert.Contains($"**The run failed.** The run stopped before every step ran: {declined}.", report, StringComparison.Ordinal);
        Assert.Contains("'lost=2070' counts acknowledged events not in Kafka when it stopped", report, StringComparison.Ordinal);
        Assert.Contains($"they are still in the collectors' spools under {Path.Combine(_folder, "spool")}", report, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_report_the_lb_figures_the_retries_and_the_alerts_by_collector_name_with_a_chart_of_each_collectors_state()
    {
        var scenario = Scenario.Load(ScenarioVerb.Resolve("az-outage"));
        var verdict = new Verdict(Acked: 5000, Lost: 0, Duplicates: 10, NotAcked: 0, new Dictionary<string, int>(), 0, [])
        {
            DuplicatesByOrigin = new Dictionary<CopyOrigin, int> { [CopyOrigin.StoredByTwoSpools] = 8, [CopyOrigin.WrittenTwiceByTheMock] = 2 },
        };
        var alert = (string name, string state, string label, string value) =>
            new AlertSeen(name, state, new Dictionary<string, string> { ["alertname"] = name, ["alertstate"] = state, [label] = value });
        var view = new LoadBalancerView(
            new LbFigures(ServerErrors: 0, MarkedDown: 1, NotAnswered: 0, Retries: 34, Redispatches: 32, ["b1 at 12.0 s"]),
            [new LbSample(10, "b1", "UP", 0), new LbSample(12, "b1", "DOWN", 1)],
            [alert("CollectorDown", "pending", "instance", "127.0.0.1:4001"), alert("CollectorReadinessFlapping", "firing", "server", "b1")],
            new Dictionary<string, string> { ["127.0.0.1:4001"] = "b2" });

        var report = File.ReadAllText(RunReport.Write(new RunReportInput(
            scenario, new RunSettings(TimeSpan.FromSeconds(30), Confirm: false, _folder), verdict, new Acceptance(Sent: 5000, Acked: 5000), AllStepsRan: true, Traffic: null,
            [], [], [], [], TrafficStartedAt: 0, EndedAt: 40, LoadBalancer: view)));

        Assert.Contains("`lb: 5xx=0 marked_down=1 not_answered=0`", report, StringComparison.Ordinal);
        Assert.Contains("| duplicates in Kafka | 10 |", report, StringComparison.Ordinal);
        Assert.Contains("| duplicates: stored by two spools (a replay or retry that reached another collector) | 8 |", report, StringComparison.Ordinal);
        Assert.Contains("| duplicates: appended twice by the Kafka mock (a Produce it could not answer) | 2 |", report, StringComparison.Ordinal);
        Assert.Contains("| requests HAProxy retried | 34 |", report, StringComparison.Ordinal);
        Assert.Contains("Marked down: b1 at 12.0 s.", report, StringComparison.Ordinal);
        Assert.Contains("Alerts that fired (docker/prometheus/alerts.yml): **CollectorReadinessFlapping (b1)**.", report, StringComparison.Ordinal);
        Assert.Contains("their `for`): CollectorDown (b2).", report, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_folder, "load-balancer-states.png")));
    }

    [Fact]
    public void Should_leave_a_gap_in_the_backlog_line_where_a_collector_did_not_answer()
    {
        var scrapes = new[] { (1.0, true, 10.0), (2.0, false, 0.0), (3.0, false, 0.0), (4.0, true, 40.0), (5.0, true, 50.0) }
            .Select(s => new CollectorScrape(s.Item1, "b2", "b", s.Item2, 0, 0, s.Item3, new Dictionary<string, double>(), new Dictionary<string, double>()));

        var segments = RunReport.Segments(RunReport.WithGaps(scrapes, s => s.Backlog)).ToArray();

        Assert.Equal([[(1.0, 10.0)], [(4.0, 40.0), (5.0, 50.0)]], segments);
    }

    [Fact]
    public void Should_log_the_start_up_summary_and_the_shutdown_lines_of_scenario_collectors_among_their_warnings()
    {
        const string prefix = "Logging__LogLevel__";
        var levels = CollectorNode.LogLevels;

        Assert.Equal("Warning", levels[$"{prefix}Default"]);
        Assert.All([typeof(LifecycleLog), typeof(CollectorShutdownService)], logger => Assert.Contains(levels, level =>
            level.Value == "Information" && level.Key.StartsWith(prefix, StringComparison.Ordinal)
            && logger.FullName!.StartsWith(level.Key[prefix.Length..], StringComparison.Ordinal)));
    }

    [Fact]
    public void Should_write_a_loadgen_ledger_without_ledger_option_into_a_git_ignored_folder()
    {
        var path = LoadgenVerb.DefaultLedgerPath("lg20261130070000");
        var ignored = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".gitignore"));

        Assert.Equal(Path.Combine("rig-runs", "loadgen", "lg20261130070000.ledger.tsv"), path);
        Assert.Contains("/rig-runs/", ignored);
    }

    [Fact]
    public async Task Should_print_tables_unwrapped_when_the_output_is_not_a_terminal()
    {
        using var rig = ChildProcess.StartDotnet(RigDll, ["scenario", "run", "az-outage", "--dry-run"]);

        Assert.Equal(0, await rig.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        // The plan's widest row, longer than 80 columns, stays on one line.
        Assert.Contains(rig.Lines, line => line.Text.Contains(
            "start zone a: 2 collector(s), zone b: 2 collector(s); a Kafka mock per zone (1 broker(s), 32 partitions); redis-server behind a fault proxy per collector",
            StringComparison.Ordinal));
    }
}
