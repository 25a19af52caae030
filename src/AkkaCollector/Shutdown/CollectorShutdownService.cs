using System.Diagnostics;
using Akka;
using Akka.Actor;
using AkkaCollector.Spooling;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaCollector.Shutdown;

/// <summary>
/// Runs Akka's CoordinatedShutdown as the first thing the host does when it stops, and owns the web side of
/// its phases: readiness off and drain, listeners closed, in-flight requests finished.
/// </summary>
/// <remarks>
/// Why <see cref="IHostedLifecycleService.StoppingAsync"/> and not <c>StopAsync</c>: WebApplicationBuilder adds
/// the web server's hosted service in <c>Build()</c>, after every service the application registered, and
/// hosted services stop in reverse order, so the web server's <c>StopAsync</c> runs before any of ours. The host
/// calls every <c>StoppingAsync</c> before any <c>StopAsync</c>, so the phases run while the server is still up,
/// and they stop it themselves (service-unbind). Whoever starts CoordinatedShutdown (the host on SIGTERM/SIGINT,
/// the admin endpoint, Akka.Hosting's own <c>StopAsync</c>), <see cref="CoordinatedShutdown.Run"/> runs the
/// phases once and hands every later caller the same task. When the phases were started without the host
/// (the admin endpoint), Akka.Hosting calls <see cref="IHostApplicationLifetime.StopApplication"/> once the actor
/// system has terminated, and the host then stops through here as usual.
/// </remarks>
public sealed class CollectorShutdownService(
    ActorSystem system,
    IServer server,
    ReadinessGate readiness,
    InFlightRequests inFlight,
    SpoolStatus spool,
    ShutdownSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<CollectorShutdownService> logger) : IHostedLifecycleService
{
    private readonly CoordinatedShutdown _coordinated = CoordinatedShutdown.Get(system);
    private readonly CancellationTokenSource _connectionsDeadline = new();
    private long _startedAt;
    private Task _serverStopped = Task.CompletedTask;

    /// <summary>Starts CoordinatedShutdown (or joins the run already under way) and waits for every phase.</summary>
    public async Task RunAsync(CoordinatedShutdown.Reason reason)
    {
        try
        {
            await _coordinated.Run(reason).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Only a phase with recover = off can fail the run; the host must still stop and report.
            logger.LogError(ex, "Coordinated shutdown failed");
        }
    }

    /// <summary>Refuses to start when the running actor system's own HOCON does not fit the kill window.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // The start-up check read hocon/shutdown.conf; this reads what Akka actually loaded, in case other HOCON
        // overrode a phase timeout or switched Akka's signal hook back on.
        var effective = ShutdownPlan.FromConfig(system.Settings.Config);
        if (!effective.Fits)
            throw new InvalidOperationException("The actor system's coordinated-shutdown settings do not fit the kill window:" + Environment.NewLine + effective.Render());
        return Task.CompletedTask;
    }

    /// <summary>Registers the web side of the phases.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _coordinated.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "collector-drain", DrainAsync);
        _coordinated.AddTask(CoordinatedShutdown.PhaseServiceUnbind, "collector-unbind", Unbind);
        _coordinated.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "collector-requests-done", RequestsDoneAsync);
        return Task.CompletedTask;
    }

    /// <summary>Refuses to run when a task landed in a phase the plan does not budget.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        // Every hosted service has registered its tasks by now. Akka's TotalTimeout sums the timeouts of the phases
        // that have tasks; more than the plan's total means a task sits in a phase the kill window does not pay for.
        if (_coordinated.TotalTimeout > settings.Plan.PhasesTotal)
            throw new InvalidOperationException(
                $"Coordinated shutdown phases with tasks add up to {_coordinated.TotalTimeout}, more than the plan's " +
                $"{settings.Plan.PhasesTotal}: a task was registered in a phase outside {string.Join(", ", ShutdownPlan.BudgetedPhases)}.");
        return Task.CompletedTask;
    }

    /// <summary>
    /// The host is stopping (SIGTERM, SIGINT, or StopApplication), or stops what started of a start that failed: run
    /// every phase now, server still up. A stop asked for during the start runs after it, so before it only a failure stops.
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken) =>
        RunAsync(lifetime.ApplicationStarted.IsCancellationRequested ? HostStoppingReason.Instance : StartFailedReason.Instance);

    /// <summary>Nothing left: the phases already ran in <see cref="StoppingAsync"/>.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes the last line of the log: how long shutdown took and what is still spooled.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        // Written here rather than in a phase: after the phases, Akka.Hosting and the host still log, and this
        // line is the one an operator looks for at the bottom of a restart.
        var startedAt = Interlocked.Read(ref _startedAt);
        var elapsed = startedAt == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(startedAt);
        logger.LogInformation(
            "Shutdown complete in {ElapsedSeconds:0.000}s of a {KillWindowSeconds:0.###}s kill window ({Reason}); {EventsRemaining} events remain spooled",
            elapsed.TotalSeconds, settings.Plan.KillWindow.TotalSeconds, _coordinated.ShutdownReason, spool.BacklogEvents);
        _connectionsDeadline.Dispose();
        return Task.CompletedTask;
    }

    private async Task<Done> DrainAsync()
    {
        Interlocked.CompareExchange(ref _startedAt, Stopwatch.GetTimestamp(), 0);
        readiness.MarkDraining();
        // The host notes its start only once every hosted service has started, Kestrel last: before that no load
        // balancer can have seen this collector ready, so there is nobody to wait for (a start that failed).
        if (!lifetime.ApplicationStarted.IsCancellationRequested)
        {
            logger.LogInformation("Shutdown phase {Phase} ({Reason}): no drain-delay, the collector never finished starting",
                CoordinatedShutdown.PhaseBeforeServiceUnbind, _coordinated.ShutdownReason);
            return Done.Instance;
        }
        logger.LogInformation(
            "Shutdown phase {Phase} ({Reason}): readiness answers 503; waiting drain-delay {DrainDelay} for the load balancer",
            CoordinatedShutdown.PhaseBeforeServiceUnbind, _coordinated.ShutdownReason, settings.Plan.DrainDelay);
        await Task.Delay(settings.Plan.DrainDelay).ConfigureAwait(false);
        return Done.Instance;
    }

    private Task<Done> Unbind()
    {
        // Kestrel's StopAsync first closes its listening sockets (synchronously, before its first real await),
        // then waits for open connections to finish their requests until the token fires, then aborts them.
        // That wait belongs to service-requests-done, which sets the deadline and awaits the task.
        _serverStopped = server.StopAsync(_connectionsDeadline.Token);
        logger.LogInformation(
            "Shutdown phase {Phase}: listeners closed; {InFlight} requests in flight",
            CoordinatedShutdown.PhaseServiceUnbind, inFlight.Count);
        return Task.FromResult(Done.Instance);
    }

    private async Task<Done> RequestsDoneAsync()
    {
        var timeout = settings.Plan.TimeoutOf(CoordinatedShutdown.PhaseServiceRequestsDone);
        _connectionsDeadline.CancelAfter(timeout);
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await Task.WhenAll(_serverStopped, inFlight.WaitUntilIdleAsync(wait.Token)).ConfigureAwait(false);
            logger.LogInformation("Shutdown phase {Phase}: every request answered", CoordinatedShutdown.PhaseServiceRequestsDone);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning(
                "Shutdown phase {Phase}: {InFlight} requests still in flight after {Timeout}; their connections were aborted",
                CoordinatedShutdown.PhaseServiceRequestsDone, inFlight.Count, timeout);
        }
        return Done.Instance;
    }
}

/// <summary>The host is stopping: SIGTERM or SIGINT (mapped by the host's console lifetime) or StopApplication.</summary>
public sealed class HostStoppingReason : CoordinatedShutdown.Reason
{
    /// <summary>The one instance.</summary>
    public static readonly HostStoppingReason Instance = new();

    private HostStoppingReason()
    {
    }

    /// <summary>A stop the operator asked for is a clean exit.</summary>
    public override int ExitCode => 0;

    /// <inheritdoc />
    public override string ToString() => "host stopping: SIGTERM, SIGINT or StopApplication";
}

/// <summary>The host stops what started of a start that failed (<c>StartFailure</c>); the cause is on stderr and in the log above.</summary>
public sealed class StartFailedReason : CoordinatedShutdown.Reason
{
    /// <summary>The one instance.</summary>
    public static readonly StartFailedReason Instance = new();

    private StartFailedReason()
    {
    }

    /// <summary>Not the process's: Program exits with the code the failure maps to (exit-clr is off).</summary>
    public override int ExitCode => 1;

    /// <inheritdoc />
    public override string ToString() => "the start failed";
}
