using System.Diagnostics;
using System.Text.Json;
using AkkaCollector.Rig.Faults;
using AkkaCollector.Rig.LoadBalancer;
using AkkaCollector.Rig.Metrics;
using AkkaCollector.Rig.Report;
using AkkaCollector.Rig.Traffic;
using AkkaCollector.Rig.Verification;
using Spectre.Console;

namespace AkkaCollector.Rig.Scenarios;

/// <summary>A step as it happened, for the report's time axis.</summary>
public sealed record StepMark(double Seconds, string Kind, string Description);

/// <summary>How a scenario run ended.</summary>
/// <param name="Acceptance">How much of the traffic sent outside the refusing steps was acked.</param>
/// <param name="AllStepsRan">Every step ran to its end (none failed, none declined, no Ctrl+C).</param>
/// <param name="StoppedBecause">Why the run stopped before its last step (a failed step, a declined step, Ctrl+C); null when every step ran.</param>
/// <param name="LoadBalancer">The load balancer's figures; null when the run stopped before HAProxy started.</param>
public sealed record ScenarioResult(Verdict Verdict, Acceptance Acceptance, bool AllStepsRan, string RunDirectory, string? StoppedBecause = null, LbFigures? LoadBalancer = null)
{
    /// <summary>0 only when nothing acknowledged was lost, enough was acknowledged, every step ran, and the load balancer's figures are clean.</summary>
    public int ExitCode => Verdict.Lost == 0 && Acceptance.Enough && AllStepsRan && (LoadBalancer?.Clean ?? true) ? 0 : 1;
}

/// <summary>Settings of one run, from the command line.</summary>
/// <param name="Duration">The scenario's nominal length; percent waits are shares of it.</param>
/// <param name="Confirm">Ask an operator before every risky step.</param>
public sealed record RunSettings(TimeSpan Duration, bool Confirm, string RunDirectory);

/// <summary>
/// Runs a scenario: starts its topology, takes its steps in order while traffic flows and every collector is
/// scraped each second, then reconciles the ledger with what Kafka holds and writes the report. Every process
/// it started is stopped whatever happens (a failed step, Ctrl+C, an exception).
/// </summary>
public sealed class ScenarioRunner(Scenario scenario, RunSettings settings, IAnsiConsole console)
{
    private readonly Stopwatch _clock = new();
    private readonly List<StepMark> _marks = [];
    private Topology? _topology;
    private Ledger? _ledger;
    private LoadGenerator? _traffic;
    private Task<LoadSnapshot>? _trafficRun;
    private CancellationTokenSource? _trafficStop;
    private LoadSnapshot? _trafficSummary;
    private (int Second, double Millis)[] _latencyP99 = [];
    private double _trafficStartedAt;
    private Verdict? _verdict;
    private readonly Dictionary<string, long> _refusingSince = new(StringComparer.Ordinal);
    private readonly List<RefusalWindow> _refusals = [];
    private string? _stoppedBecause;
    private LoadBalancerView? _loadBalancer;

    /// <summary>Runs the scenario; the verdict is computed even when a step fails, from what the audit read by then.</summary>
    public async Task<ScenarioResult> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(settings.RunDirectory);
        _clock.Start();
        var allStepsRan = false;
        MetricsScraper? scraper = null;
        LoadBalancerWatch? balancerWatch = null;
        Acceptance acceptance;
        try
        {
            Log($"scenario [bold]{Markup.Escape(scenario.Name)}[/], duration {settings.Duration}, run folder {Markup.Escape(settings.RunDirectory)}");
            _topology = await Topology.StartAsync(scenario, settings.RunDirectory, text => Log(Markup.Escape(text)), cancellationToken);
            // If the rig dies without unwinding, its children must not outlive it.
            AppDomain.CurrentDomain.ProcessExit += KillEverything;
            _ledger = new Ledger(Path.Combine(settings.RunDirectory, "ledger.tsv"));
            scraper = new MetricsScraper(_topology.Collectors, () => _clock.Elapsed.TotalSeconds);
            balancerWatch = new LoadBalancerWatch(_topology.Haproxy, () => _clock.Elapsed.TotalSeconds);
            allStepsRan = await RunStepsAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _stoppedBecause = "interrupted (Ctrl+C or SIGTERM)";
            Log("[yellow]interrupted: stopping everything[/]");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The run's boundary: whatever broke, the processes are stopped and the verdict still computed below.
            _stoppedBecause = $"{(_marks.Count == 0 ? "start-up" : $"step {_marks.Count} ({_marks[^1].Description})")} failed: {e.Message}";
            Log($"[red]{Markup.Escape(_stoppedBecause)}[/]");
        }
        finally
        {
            await StopTrafficAsync();
            if (scraper is not null)
            {
                // One last look, so the report's totals include what was delivered while draining.
                await scraper.ScrapeAllAsync();
                await scraper.DisposeAsync();
            }
            if (balancerWatch is not null)
                _loadBalancer = await LoadBalancerViewAsync(balancerWatch);
            _verdict ??= _topology is null || _ledger is null ? null : ComputeVerdict(_topology);
            acceptance = Acceptance.Compute(_ledger?.Entries ?? [], RefusalWindows());
            if (!acceptance.Enough)
                Log($"[red]too little acked:[/] {Markup.Escape(acceptance.ToString())}");
            if (_verdict is not null && scraper is not null && _ledger is not null)
                WriteReport(scraper, acceptance, allStepsRan);
            if (_topology is not null)
                await _topology.DisposeAsync();
            AppDomain.CurrentDomain.ProcessExit -= KillEverything;
            _ledger?.Dispose();
        }
        return new ScenarioResult(_verdict ?? Verdict.Compute([], _ => 0), acceptance, allStepsRan, settings.RunDirectory, _stoppedBecause, _loadBalancer?.Figures);
    }

    private async Task<bool> RunStepsAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < scenario.Steps.Count; i++)
        {
            var step = scenario.Steps[i];
            if (settings.Confirm && StepSpec.Risky.Contains(step.Do) &&
                !await console.ConfirmAsync($"Step {i + 1}/{scenario.Steps.Count}: {Markup.Escape(step.Describe())}. Go ahead?", defaultValue: false, cancellationToken))
            {
                _stoppedBecause = $"step {i + 1}/{scenario.Steps.Count} ({step.Describe()}) was declined by the operator under --confirm";
                Log("[yellow]declined by the operator: the run stops here[/]");
                return false;
            }
            _marks.Add(new StepMark(_clock.Elapsed.TotalSeconds, step.Do, step.Describe()));
            Log($"step {i + 1}/{scenario.Steps.Count}: [bold]{Markup.Escape(step.Describe())}[/]");
            await RunStepAsync(step, cancellationToken);
        }
        return true;
    }

    private async Task RunStepAsync(StepSpec step, CancellationToken cancellationToken)
    {
        var topology = _topology!;
        switch (step.Do)
        {
            case "start-traffic":
                StartTraffic();
                break;
            case "stop-traffic":
                await StopTrafficAsync();
                break;
            case "wait":
                await WaitAsync(Scenario.ResolveWait(step.For!, settings.Duration), cancellationToken);
                break;
            case "isolate":
            case "restore":
                await SwitchLinksAsync(step, cut: step.Do == "isolate", cancellationToken);
                break;
            case "kafka-down":
            case "kafka-up":
                foreach (var zone in step.Zone is null ? topology.Zones : [topology.Zone(step.Zone)])
                {
                    if (step.Do == "kafka-down")
                        await zone.Kafka.Control.SetBrokerDownAsync(cancellationToken: cancellationToken);
                    else
                        await zone.Kafka.Control.SetBrokerUpAsync(cancellationToken: cancellationToken);
                }
                break;
            case "restart":
                var restarted = topology.Collector(step.Collector!);
                await StopAsync(restarted);
                await restarted.StartAsync(cancellationToken);
                ServeAgain(restarted);
                Log($"{restarted.Name} running again, pid {restarted.Pid}");
                break;
            case "stop":
                await StopAsync(topology.Collector(step.Collector!));
                break;
            case "kill":
                var killed = topology.Collector(step.Collector!);
                RefuseFrom(killed);
                Log($"{killed.Name} exited with code {await killed.KillAsync()} after SIGKILL");
                break;
            case "start":
                var started = topology.Collector(step.Collector!);
                await started.StartAsync(cancellationToken);
                ServeAgain(started);
                Log($"{started.Name} running, pid {started.Pid}");
                break;
            case "drain":
                await StopTrafficAsync();
                await DrainAsync(step.For is null ? TimeSpan.FromSeconds(60) : CommandLine.ParseDuration(step.For), cancellationToken);
                break;
            case "verify":
                await StopTrafficAsync();
                _verdict = ComputeVerdict(topology);
                console.Write(VerdictTable(_verdict));
                break;
            default:
                throw new InvalidOperationException($"Step '{step.Do}' has no implementation.");
        }
    }

    /// <summary>SIGTERM, as a process manager stops a collector; it refuses traffic from here until it is started again.</summary>
    private async Task StopAsync(CollectorNode collector)
    {
        RefuseFrom(collector);
        var stop = await collector.StopAsync();
        Log($"{collector.Name} after SIGTERM: {stop} (kill window {CollectorNode.KillWindow.TotalSeconds:0} s)");
        // The product's promise to its process manager; a stop that breaks it fails the run.
        if (!stop.KeptTheKillWindow)
            throw new InvalidOperationException(
                $"{collector.Name} did not exit 0 inside its {CollectorNode.KillWindow.TotalSeconds:0} s kill window after SIGTERM: {stop}");
    }

    private async Task SwitchLinksAsync(StepSpec step, bool cut, CancellationToken cancellationToken)
    {
        var topology = _topology!;
        var collectors = step.Zone is null ? [topology.Collector(step.Collector!)] : topology.Zone(step.Zone).Collectors;
        var links = step.From.SelectMany(dependency => dependency == "kafka"
            ? [topology.Zone(step.Zone!).KafkaLink]
            : collectors.Select(c => topology.RedisLink(c.Name))).ToArray();
        var mode = step.Mode switch
        {
            "blackhole" => CutMode.BlackHole,
            "refuse" => CutMode.Refuse,
            "reset" => CutMode.Reset,
            _ => throw new InvalidOperationException($"Unknown isolation mode '{step.Mode}' (blackhole, refuse, reset)."),
        };
        foreach (var link in links)
        {
            if (cut)
                await link.CutAsync(mode, cancellationToken);
            else
                await link.RestoreAsync(cancellationToken);
            Log($"{(cut ? $"cut ({step.Mode})" : "restored")}: {Markup.Escape(link.Description)}");
        }
    }

    private void StartTraffic()
    {
        if (_traffic is not null)
            throw new InvalidOperationException("Traffic is already running; a scenario starts it once.");
        var spec = scenario.Traffic;
        // The traffic is bounded like any loadgen run, generously past the scenario's own length.
        var bound = settings.Duration + TimeSpan.FromMinutes(5);
        var options = new LoadOptions
        {
            Rate = spec.Rate,
            WriteKeys = spec.WriteKeys,
            Concurrency = spec.Concurrency,
            BatchSize = spec.Batch,
            Duration = bound > LoadOptions.LongestDuration ? LoadOptions.LongestDuration : bound,
            MaxEvents = (long)Math.Min(LoadOptions.MostEvents, Math.Max(1, spec.Rate) * bound.TotalSeconds),
            RequestTimeout = CommandLine.ParseDuration(spec.Timeout),
        };
        // Producers know one address, the load balancer's, as behind the story's ELB.
        _traffic = new LoadGenerator(options, new TargetPool([_topology!.Haproxy.ProducersUrl]), _ledger!, $"{scenario.Name}-{DateTime.UtcNow:HHmmss}");
        _trafficStop = new CancellationTokenSource();
        _trafficStartedAt = _clock.Elapsed.TotalSeconds;
        _trafficRun = _traffic.RunAsync(_trafficStop.Token);
        _ = ReportProgressAsync(_traffic, _trafficRun);
    }

    private async Task ReportProgressAsync(LoadGenerator traffic, Task run)
    {
        while (await Task.WhenAny(run, Task.Delay(5000)) != run)
            Log(LoadgenVerb.ProgressText(traffic.Stats.Snapshot()));
    }

    private async Task StopTrafficAsync()
    {
        if (_trafficRun is null || _trafficSummary is not null)
            return;
        await _trafficStop!.CancelAsync();
        _trafficSummary = await _trafficRun;
        _latencyP99 = _traffic!.Stats.PercentileBySecond(99);
        _trafficStop.Dispose();
        _traffic!.Dispose();
        Log("traffic stopped");
        console.Write(LoadgenVerb.SummaryTable(_trafficSummary));
    }

    private async Task DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pending = _ledger!.Entries.Where(e => e.Outcome == EventOutcome.Acked).Select(e => e.MessageId).ToHashSet(StringComparer.Ordinal);
        var deadline = _clock.Elapsed + timeout;
        while (true)
        {
            pending.RemoveWhere(id => _topology!.TimesSeen(id) > 0);
            if (pending.Count == 0)
            {
                Log("drained: every acked event is in Kafka");
                return;
            }
            if (_clock.Elapsed > deadline)
            {
                Log($"[red]not drained[/] after {timeout}: {pending.Count} acked events not in Kafka yet");
                return;
            }
            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>Opens a refusal window: from now on, until <see cref="ServeAgain"/>, <paramref name="collector"/> refuses on purpose.</summary>
    private void RefuseFrom(CollectorNode collector) => _refusingSince.TryAdd(collector.Url.Authority, TrafficMillis());

    private void ServeAgain(CollectorNode collector)
    {
        if (_refusingSince.Remove(collector.Url.Authority, out var since))
            _refusals.Add(new RefusalWindow(collector.Url.Authority, since, TrafficMillis()));
    }

    /// <summary>Every refusal window, those still open at the end running to the end.</summary>
    private RefusalWindow[] RefusalWindows() =>
        [.. _refusals, .. _refusingSince.Select(open => new RefusalWindow(open.Key, open.Value, long.MaxValue))];

    /// <summary>
    /// The last look at HAProxy's stats, the figures of the lb line (mark-downs of collectors the scenario stopped or
    /// killed excused), and the alerts Prometheus had pending or firing during the run.
    /// </summary>
    private async Task<LoadBalancerView> LoadBalancerViewAsync(LoadBalancerWatch watch)
    {
        await watch.PollAsync();
        await watch.DisposeAsync();
        var names = _topology!.Collectors.ToDictionary(c => c.Url.Authority, c => c.Name, StringComparer.Ordinal);
        var outages = RefusalWindows().Select(w => new ScenarioOutage(
            names[w.Target], _trafficStartedAt + w.FromMs / 1000.0, w.ToMs == long.MaxValue ? double.MaxValue : _trafficStartedAt + w.ToMs / 1000.0)).ToArray();
        var figures = LbFigures.Compute(watch.Samples, outages, watch.FrontendRow, watch.BackendRow, _trafficSummary?.ConnectionErrors ?? 0);
        Log($"{(figures.Clean ? "" : "[red]the load balancer saw trouble:[/] ")}{figures.Line}, retried {figures.Retries} (to another collector {figures.Redispatches})");
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            return new LoadBalancerView(figures, watch.Samples, await _topology.Prometheus.AlertsSeenAsync(http, _clock.Elapsed), names);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            return new LoadBalancerView(figures, watch.Samples, null, names, e.Message);
        }
    }

    /// <summary>Now on the ledger's clock: milliseconds since the traffic started.</summary>
    private long TrafficMillis() => (long)((_clock.Elapsed.TotalSeconds - _trafficStartedAt) * 1000);

    private async Task WaitAsync(TimeSpan length, CancellationToken cancellationToken) => await Task.Delay(length, cancellationToken);

    private void WriteReport(MetricsScraper scraper, Acceptance acceptance, bool allStepsRan)
    {
        var path = RunReport.Write(new RunReportInput(
            scenario, settings, _verdict!, acceptance, allStepsRan, _trafficSummary, _latencyP99, scraper.Scrapes, _marks,
            _ledger!.Entries, _trafficStartedAt, _clock.Elapsed.TotalSeconds, _stoppedBecause, _loadBalancer));
        Log($"report: {Markup.Escape(path)}");
    }

    private Verdict ComputeVerdict(Topology topology) =>
        Verdict.Compute(_ledger!.Entries, topology.TimesSeen) with { DuplicatesByOrigin = topology.ExtraCopiesByOrigin() };

    private void KillEverything(object? sender, EventArgs e) => _topology?.KillEverything();

    private void Log(string markup) => console.MarkupLine($"[grey]{_clock.Elapsed:mm\\:ss\\.f}[/] {markup}");

    /// <summary>The verdict as a table: the numbers that matter, then every cause of a not-acked event.</summary>
    public static Table VerdictTable(Verdict verdict)
    {
        var table = new Table().Title("verdict").AddColumn("what").AddColumn(new TableColumn("events").RightAligned());
        table.AddRow("acked", $"{verdict.Acked}");
        table.AddRow(verdict.Lost == 0 ? "lost" : "[red]LOST[/]", verdict.Lost == 0 ? "0" : $"[red]{verdict.Lost}[/]");
        table.AddRow("duplicates in Kafka", $"{verdict.Duplicates}");
        foreach (var (origin, count) in verdict.DuplicatesByOrigin)
            table.AddRow($"  {Markup.Escape(Verdict.Describe(origin))}", $"{count}");
        table.AddRow("not acked", $"{verdict.NotAcked}");
        foreach (var (cause, count) in verdict.NotAckedByCause)
            table.AddRow($"  {Markup.Escape(cause)}", $"{count}");
        table.AddRow("not acked but delivered", $"{verdict.DeliveredWithoutAck}");
        foreach (var id in verdict.LostSample)
            table.AddRow("  lost id", Markup.Escape(id));
        return table;
    }
}
