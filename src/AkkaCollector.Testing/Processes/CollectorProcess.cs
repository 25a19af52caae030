using System.Diagnostics;

namespace AkkaCollector.Testing.Processes;

/// <summary>How a <see cref="CollectorProcess"/> is started.</summary>
public sealed record CollectorProcessOptions
{
    /// <summary>Bootstrap servers of a Kafka (e.g. a <see cref="KafkaMockProcess"/>); null runs the collector's own embedded mock.</summary>
    public string? KafkaBootstrapServers { get; init; }

    /// <summary>Settings as environment variables (<c>Spool__MaxBytes</c>, <c>Redis__Configuration</c>, ...).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Command-line arguments after <c>--urls</c>, e.g. <c>--Logging:Format=json</c>.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>How long one start may take until <c>/health/live</c> (a first start: <c>/health/ready</c>) answers; generous, the machines running tests are busy.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A spool folder the caller owns (the rig keeps it in its run folder): created if missing, kept on dispose.
    /// Null gives the collector a temporary folder that dispose deletes.
    /// </summary>
    public string? SpoolFolder { get; init; }
}

/// <summary>How a <see cref="CollectorProcess.StopAsync"/> ended, timed from the SIGTERM.</summary>
/// <param name="Killed">It overstayed the kill window and was SIGKILLed, as the process manager would have done.</param>
/// <param name="Crash">The crashed thread's frames when it crashed natively (<see cref="CrashReport"/>); null otherwise.</param>
public sealed record StopOutcome(int ExitCode, TimeSpan Elapsed, bool Killed, string? Crash = null)
{
    /// <summary>The collector's promise to its process manager: exit 0 on its own, inside the kill window.</summary>
    public bool KeptTheKillWindow => !Killed && ExitCode == 0;

    public override string ToString() => (Killed
        ? $"still running after {Elapsed.TotalSeconds:F2} s, SIGKILLed (exit {ExitCode})"
        : $"exit {ExitCode} after {Elapsed.TotalSeconds:F2} s") + (Crash is null ? "" : $"; {Crash}");
}

/// <summary>
/// The collector binary as a child process on a free loopback port with a spool folder of its own: killed,
/// terminated and started again on the same port and spool, as a process manager would. Settings are passed as
/// environment variables (<c>Spool__MaxBytes</c>, ...). Disposing kills every incarnation by PID and deletes the spool
/// (unless the caller owns it, <see cref="CollectorProcessOptions.SpoolFolder"/>).
/// </summary>
public sealed class CollectorProcess : IDisposable
{
    /// <summary>The SQLite journal's file inside the spool folder, as SpoolJournalConfig names it.</summary>
    public const string JournalFileName = "spool.db";

    // Answers once the host runs, and never touches the spool, Kafka or Redis.
    private const string LivenessPath = "/health/live";
    // SIGKILL ends a process at once; this only bounds how long reaping it may take on a busy machine.
    private static readonly TimeSpan AfterKill = TimeSpan.FromSeconds(10);
    /// <summary>
    /// The environment every shipped start of the collector sets (deploy/, docker/Dockerfile, launchSettings.json;
    /// docs/deploy.md, "Memory settings read at start"), so that tests, the rig and the bench run it as it is deployed.
    /// Both are read only as the process starts, which is why they are not in the code: glibc's malloc arenas, capped
    /// at two, and the garbage collector's gen1 budget, capped at 8 MiB. A setting of the same name overrides either.
    /// </summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> ShippedEnvironment =
    [
        new("MALLOC_ARENA_MAX", "2"),
        new("DOTNET_GCGen1MaxBudget", "0x800000"),
    ];

    private static readonly HttpClient Probe = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(2) };

    private readonly Dictionary<string, string> _environment;
    private readonly IReadOnlyList<string> _arguments;
    private readonly TimeSpan _startTimeout;
    private readonly bool _ownsSpoolFolder;
    private readonly List<ChildProcess> _incarnations = [];

    private CollectorProcess(int port, string spoolFolder, Dictionary<string, string> environment, CollectorProcessOptions options)
    {
        Port = port;
        SpoolFolder = spoolFolder;
        _environment = environment;
        _arguments = options.Arguments;
        _startTimeout = options.StartTimeout;
        _ownsSpoolFolder = options.SpoolFolder is null;
    }

    /// <summary>The loopback port, kept across restarts.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>, no trailing slash.</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>The spool folder, kept across restarts (a temporary one is deleted on dispose).</summary>
    public string SpoolFolder { get; }

    /// <summary>Full path of the SQLite journal.</summary>
    public string JournalFile => Path.Combine(SpoolFolder, JournalFileName);

    /// <summary>The running (or last) incarnation: its PID, output lines and signals.</summary>
    public ChildProcess Current => _incarnations[^1];

    /// <summary>PID of the current incarnation.</summary>
    public int Pid => Current.Pid;

    /// <summary>The current incarnation has not exited.</summary>
    public bool IsRunning => !Current.HasExited;

    /// <summary>How many times the collector was started (1 + restarts).</summary>
    public int Starts => _incarnations.Count;

    /// <summary>Output of every incarnation, oldest first, for assertion messages.</summary>
    public string Output => string.Join('\n', _incarnations.Select(p => $"--- pid {p.Pid}\n{p.Output}"));

    /// <summary>
    /// Starts the collector against <paramref name="kafkaBootstrapServers"/> with <paramref name="settings"/> as extra
    /// environment variables, and returns once it is ready (<see cref="StartAsync(CollectorProcessOptions, CancellationToken)"/>).
    /// </summary>
    public static Task<CollectorProcess> StartAsync(string kafkaBootstrapServers, IReadOnlyDictionary<string, string>? settings = null) =>
        StartAsync(new CollectorProcessOptions
        {
            KafkaBootstrapServers = kafkaBootstrapServers,
            Settings = settings ?? new Dictionary<string, string>(),
        });

    /// <summary>
    /// Starts the collector as <paramref name="options"/> say and returns once <c>/health/ready</c> answers 200, as a load
    /// balancer puts a collector in rotation: its spoolers have recovered their journal, so a first request is stored at
    /// once. (Sent earlier, it waits for the journal, and on a loaded machine outlasted Spool:WriteTimeout: CI, three times.)
    /// </summary>
    public static async Task<CollectorProcess> StartAsync(CollectorProcessOptions options, CancellationToken cancellationToken = default)
    {
        var spoolFolder = options.SpoolFolder is { } given
            ? Directory.CreateDirectory(given).FullName
            : Directory.CreateTempSubdirectory("collector-spool-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["Spool__Path"] = spoolFolder,
        };
        foreach (var (name, value) in ShippedEnvironment)
            environment[name] = value;
        foreach (var (name, value) in CrashReport.Settings(spoolFolder))
            environment[name] = value;
        if (options.KafkaBootstrapServers is { } bootstrapServers)
            environment["Kafka__BootstrapServers"] = bootstrapServers;
        foreach (var (name, value) in options.Settings)
            environment[name] = value;

        // A free port is only free until somebody binds it: another test class may take it between LoopbackPort.Free()
        // and the collector's bind. The collector then exits ("address already in use"); start again on another port.
        for (var attempt = 1; ; attempt++)
        {
            var collector = new CollectorProcess(LoopbackPort.Free(), spoolFolder, environment, options);
            try
            {
                await collector.StartIncarnationAsync(options.StartTimeout, cancellationToken);
                await collector.WaitUntilReadyAsync(options.StartTimeout);
                return collector;
            }
            catch (PortTakenException) when (attempt < 3)
            {
                collector.DisposeIncarnations();
            }
            catch
            {
                collector.Dispose();
                throw;
            }
        }
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200: every spooler has recovered its journal.</summary>
    /// <exception cref="TimeoutException">Not ready within <paramref name="timeout"/>; the message has its last answer.</exception>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = timeout };
        await Readiness.WaitForAsync(http, System.Net.HttpStatusCode.OK, timeout);
    }

    /// <summary>SIGKILL: no shutdown at all, as after the OOM killer or a lost host.</summary>
    public bool Kill() => Current.Kill();

    /// <summary>SIGTERM: the process manager's polite stop (coordinated shutdown).</summary>
    public bool Terminate() => Signal(Signals.SIGTERM);

    /// <summary>Sends <paramref name="signo"/> (<see cref="Signals"/>) to the current incarnation; false when it is gone.</summary>
    public bool Signal(int signo) => Current.SendSignal(signo);

    /// <summary>Waits for the current incarnation to exit; returns its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout) => Current.WaitForExitAsync(timeout);

    /// <summary>
    /// A stop that always ends the process, as pm2, systemd and Kubernetes do it: SIGTERM, then SIGKILL once it
    /// overstays <paramref name="killWindow"/>, timed from the signal. The outcome says whether the collector kept its
    /// promise (exit 0 inside the window), and where it crashed if it crashed.
    /// </summary>
    public async Task<StopOutcome> StopAsync(TimeSpan killWindow)
    {
        var clock = Stopwatch.StartNew();
        Terminate();
        try
        {
            var exitCode = await WaitForExitAsync(killWindow);
            return new StopOutcome(exitCode, clock.Elapsed, Killed: false, exitCode == 0 ? null : CrashOfCurrent());
        }
        catch (TimeoutException)
        {
            Kill();
            return new StopOutcome(await WaitForExitAsync(AfterKill), clock.Elapsed, Killed: true, CrashOfCurrent());
        }
    }

    /// <summary>The crashed thread's frames from the current incarnation's crash report (<see cref="CrashReport"/>); null when it wrote none.</summary>
    public string? CrashOfCurrent() => CrashReport.Read(SpoolFolder, Pid);

    /// <summary>
    /// Starts the collector again on the same port and spool once the current incarnation has exited (<see cref="Kill"/>
    /// or <see cref="Terminate"/> it first), with <paramref name="changedSettings"/> replacing or adding settings from
    /// then on (as an operator edits a unit file between restarts); returns once the new one answers <c>/health/live</c>.
    /// Not ready, perhaps: a restarted collector whose spools another took over is unready until they are handed back
    /// (<see cref="WaitUntilReadyAsync"/> waits for that).
    /// </summary>
    /// <exception cref="TimeoutException">The old incarnation did not exit, or the new one did not answer, in time.</exception>
    public async Task RestartAsync(IReadOnlyDictionary<string, string>? changedSettings = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? _startTimeout;
        await Current.WaitForExitAsync(limit);
        foreach (var (name, value) in changedSettings ?? new Dictionary<string, string>())
            _environment[name] = value;
        await StartIncarnationAsync(limit, cancellationToken);
    }

    /// <summary>Kills every incarnation still running, by PID, and deletes the spool folder if it is a temporary one.</summary>
    public void Dispose()
    {
        DisposeIncarnations();
        if (!_ownsSpoolFolder)
            return;
        try
        {
            Directory.Delete(SpoolFolder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone: nothing to clean.
        }
    }

    private void DisposeIncarnations()
    {
        foreach (var incarnation in _incarnations)
            incarnation.Dispose();
    }

    private async Task StartIncarnationAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var process = ChildProcess.StartDotnet(CollectorBinary.Path, ["--urls", BaseUrl, .. _arguments], _environment);
        _incarnations.Add(process);
        await WaitUntilLiveAsync(process, timeout, cancellationToken);
    }

    private async Task WaitUntilLiveAsync(ChildProcess process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var lastProblem = "no attempt";
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            try
            {
                // Live means this process answers: its own log says it listens on the port (another process may answer
                // there when the bind raced), and the port answers the liveness probe.
                using var response = await Probe.GetAsync(BaseUrl + LivenessPath, cancellationToken);
                if (response.IsSuccessStatusCode && ListensOnItsPort(process))
                    return;
                lastProblem = $"GET {LivenessPath} answered {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                lastProblem = e.Message;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
        if (process.HasExited && process.Lines.Any(line => line.Text.Contains("address already in use", StringComparison.OrdinalIgnoreCase)))
            throw new PortTakenException($"Port {Port} was taken before the collector (pid {process.Pid}) could bind it.");
        throw new TimeoutException(
            $"The collector (pid {process.Pid}) at {BaseUrl} is not live after {timeout} ({(process.HasExited ? "it exited" : lastProblem)}). Output:\n{process.Output}");
    }

    private bool ListensOnItsPort(ChildProcess process) =>
        process.Lines.Any(line => line.Text.Contains("Now listening on", StringComparison.Ordinal) && line.Text.Contains(BaseUrl, StringComparison.Ordinal));

    private sealed class PortTakenException(string message) : Exception(message);
}
