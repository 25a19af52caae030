using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Rig.Scenarios;

/// <summary>
/// One named collector of a scenario, in its zone: a <see cref="CollectorProcess"/> started when the scenario says,
/// on a spool folder of the run that survives its restarts, so a restarted collector replays the same journal and
/// the load balancer's target list (its port) stays valid.
/// </summary>
public sealed class CollectorNode(string name, string zone, string spoolPath, IReadOnlyDictionary<string, string> configuration) : IDisposable
{
    /// <summary>
    /// The kill window the rig gives every collector, as its process manager: set explicitly (the collector's shipped
    /// default), so that the collector's start-up check and the rig's SIGKILL agree on it.
    /// </summary>
    public static readonly TimeSpan KillWindow = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Log levels of a scenario's collectors: warnings, plus the lines a run folder's log must keep. "Now listening on"
    /// (the host's lifetime) is how the fixture knows the process got its port; the start-up summary says which
    /// settings were in force; shutdown's phases and its last line say how long it took and what stayed spooled.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> LogLevels = new Dictionary<string, string>
    {
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        ["Logging__LogLevel__AkkaCollector.Observability.LifecycleLog"] = "Information",
        ["Logging__LogLevel__AkkaCollector.Shutdown"] = "Information",
    };

    // Configuration travels as environment variables (Section__Key), as a process manager would set it.
    private readonly CollectorProcessOptions _options = new()
    {
        SpoolFolder = spoolPath,
        Settings = new Dictionary<string, string>(configuration.Concat(LogLevels))
        {
            ["Shutdown__KillWindow"] = KillWindow.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        },
    };

    private CollectorProcess? _process;

    public string Name => name;

    public string Zone => zone;

    /// <summary>Where it listens, the same across restarts; known once it was first started.</summary>
    public Uri Url => new(Started.BaseUrl);

    /// <summary>The running process's id, or null while stopped.</summary>
    public int? Pid => _process is { IsRunning: true } process ? process.Pid : null;

    /// <summary>Everything every run of this collector wrote, oldest first.</summary>
    public string Output => _process?.Output ?? "";

    private CollectorProcess Started => _process ?? throw new InvalidOperationException($"Collector {Name} was never started.");

    /// <summary>Starts the collector (again, on the same port and spool, after a stop) and returns once it is live.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_process is null)
            _process = await CollectorProcess.StartAsync(_options, cancellationToken);
        else if (_process.IsRunning)
            throw new InvalidOperationException($"Collector {Name} is already running (pid {_process.Pid}).");
        else
            await _process.RestartAsync(cancellationToken: cancellationToken);
    }

    /// <summary>A graceful stop: SIGTERM, and SIGKILL when it overstays <see cref="KillWindow"/>, as a process manager does.</summary>
    public Task<StopOutcome> StopAsync() => Started.StopAsync(KillWindow);

    /// <summary><c>kill -9</c>: no shutdown at all, like the OOM killer or a lost host. Returns the exit code.</summary>
    public async Task<int> KillAsync()
    {
        Started.Kill();
        // SIGKILL ends it at once; the bound only covers reaping it on a busy machine.
        return await Started.WaitForExitAsync(KillWindow);
    }

    /// <summary>SIGKILLs the process if it still runs (by PID).</summary>
    public void Dispose() => _process?.Dispose();
}
