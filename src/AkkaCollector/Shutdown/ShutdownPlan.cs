using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;

namespace AkkaCollector.Shutdown;

/// <summary>
/// The coordinated-shutdown budget read from configuration: each phase the collector uses, its timeout, the
/// running total, and whether the total plus the safety margin fits inside the process manager's kill window.
/// Pure: it reads a <see cref="Config"/> and needs no actor system, so the start-up check and the
/// <c>shutdown-plan</c> verb compute exactly what the running system will use.
/// </summary>
public sealed record ShutdownPlan(
    IReadOnlyList<PlannedPhase> Phases,
    TimeSpan SafetyMargin,
    TimeSpan KillWindow,
    TimeSpan DrainDelay,
    bool AkkaRunsOnItsOwnSignalHook)
{
    /// <summary>Exit code when the plan does not fit (EX_CONFIG from sysexits.h): a configuration error, not a crash.</summary>
    public const int DoesNotFitExitCode = 78;

    /// <summary>
    /// The phases that have tasks in this collector, in the order Akka runs them. The other phases of Akka's
    /// default graph (the cluster ones) have no tasks here, and a phase without tasks ends at once.
    /// </summary>
    public static readonly IReadOnlyList<string> BudgetedPhases =
    [
        CoordinatedShutdown.PhaseBeforeServiceUnbind,
        CoordinatedShutdown.PhaseServiceUnbind,
        CoordinatedShutdown.PhaseServiceRequestsDone,
        CoordinatedShutdown.PhaseServiceStop,
        CoordinatedShutdown.PhaseBeforeActorSystemTerminate,
        CoordinatedShutdown.PhaseActorSystemTerminate,
    ];

    /// <summary>Sum of the phase timeouts: the longest the phases can take.</summary>
    public TimeSpan PhasesTotal => Phases[^1].Cumulative;

    /// <summary>Phases plus safety margin: what must fit inside the kill window.</summary>
    public TimeSpan Budget => PhasesTotal + SafetyMargin;

    /// <summary>Every reason the plan cannot be trusted; empty when it fits.</summary>
    public IReadOnlyList<string> Problems => FindProblems();

    /// <summary>True when the collector may start: the budget fits and nothing undermines it.</summary>
    public bool Fits => Problems.Count == 0;

    /// <summary>Reads the plan from HOCON; values the HOCON leaves out fall back to Akka's defaults.</summary>
    public static ShutdownPlan FromConfig(Config config)
    {
        var effective = config.WithFallback(ConfigurationFactory.Default());
        var coordinated = effective.GetConfig("akka.coordinated-shutdown");
        var defaultTimeout = coordinated.GetTimeSpan("default-phase-timeout");
        var cumulative = TimeSpan.Zero;
        var phases = new List<PlannedPhase>();
        foreach (var name in BudgetedPhases)
        {
            var timeout = coordinated.GetTimeSpan($"phases.{name}.timeout", defaultTimeout, allowInfinite: false);
            cumulative += timeout;
            phases.Add(new PlannedPhase(name, timeout, cumulative));
        }

        var collector = effective.GetConfig("collector.shutdown");
        if (collector.IsNullOrEmpty())
            throw new ConfigurationException("collector.shutdown is missing: load hocon/shutdown.conf");

        return new ShutdownPlan(
            phases,
            Required(collector, "safety-margin"),
            Required(collector, "kill-window"),
            Required(collector, "drain-delay"),
            coordinated.GetBoolean("run-by-clr-shutdown-hook"));
    }

    // A missing value would read as zero and quietly pass or fail the check; say which one is missing instead.
    private static TimeSpan Required(Config collector, string key) =>
        collector.HasPath(key)
            ? collector.GetTimeSpan(key, allowInfinite: false)
            : throw new ConfigurationException($"collector.shutdown.{key} is missing: load hocon/shutdown.conf");

    /// <summary>The timeout Akka will give one phase (the Kafka publisher sizes its flush deadline from service-stop's).</summary>
    public TimeSpan TimeoutOf(string phase) => Phases.Single(p => p.Name == phase).Timeout;

    /// <summary>The table (phase, timeout, cumulative) followed by the verdict.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"phase",-32}{"timeout",10}{"cumulative",12}");
        foreach (var phase in Phases)
        {
            var killed = phase.Cumulative > KillWindow ? "  <- past the kill window" : "";
            text.AppendLine(CultureInfo.InvariantCulture, $"{phase.Name,-32}{Seconds(phase.Timeout),10}{Seconds(phase.Cumulative),12}{killed}");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"{"safety margin",-32}{Seconds(SafetyMargin),10}{Seconds(Budget),12}");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"kill window",-32}{"",10}{Seconds(KillWindow),12}");
        text.AppendLine();
        text.Append(Verdict());
        return text.ToString();
    }

    /// <summary>One paragraph: fits or not, with every phase named and its share of the budget.</summary>
    public string Verdict()
    {
        var sum = string.Join(" + ", Phases.Select(p => $"{p.Name} {Seconds(p.Timeout)}")) + $" + safety margin {Seconds(SafetyMargin)}";
        if (Fits)
            return $"FITS: {sum} = {Seconds(Budget)} <= kill window {Seconds(KillWindow)}.";
        return "DOES NOT FIT:" + Environment.NewLine + string.Join(Environment.NewLine, Problems.Select(p => "  - " + p));
    }

    private List<string> FindProblems()
    {
        var problems = new List<string>();
        if (Budget > KillWindow)
        {
            var sum = string.Join(" + ", Phases.Select(p => $"{p.Name} {Seconds(p.Timeout)}"));
            var firstKilled = Phases.FirstOrDefault(p => p.Cumulative > KillWindow);
            var where = firstKilled is null
                ? "the process would be killed after the last phase, inside the safety margin"
                : $"the process manager would kill the process during {firstKilled.Name}";
            problems.Add(
                $"{sum} + safety margin {Seconds(SafetyMargin)} = {Seconds(Budget)} > kill window {Seconds(KillWindow)} " +
                $"(over by {Seconds(Budget - KillWindow)}): {where}. Shorten those phase timeouts in hocon/shutdown.conf " +
                "or raise the kill window (collector.shutdown.kill-window / Shutdown:KillWindow) together with the " +
                "process manager's (pm2 kill_timeout, systemd TimeoutStopSec, Kubernetes terminationGracePeriodSeconds).");
        }
        var drainPhase = Phases[0];
        if (DrainDelay >= drainPhase.Timeout)
            problems.Add($"drain-delay {Seconds(DrainDelay)} >= {drainPhase.Name} timeout {Seconds(drainPhase.Timeout)}: the phase would time out before the load balancer stops sending.");
        if (AkkaRunsOnItsOwnSignalHook)
            problems.Add("akka.coordinated-shutdown.run-by-clr-shutdown-hook = on: Akka would start the phases on SIGTERM before ASP.NET Core stops, killing in-flight requests; set it off.");
        return problems;
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0##", CultureInfo.InvariantCulture) + "s";
}

/// <summary>One coordinated-shutdown phase in the plan: its timeout and the total up to and including it.</summary>
public sealed record PlannedPhase(string Name, TimeSpan Timeout, TimeSpan Cumulative);
