using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.Testing.Processes;

/// <summary>
/// The collector binary as a child process on a free loopback port with a spool folder of its own: killed,
/// terminated and started again on the same port and spool, as a process manager would. Settings are passed as
/// environment variables (<c>Spool__MaxBytes</c>, ...). Disposing kills every incarnation by PID and deletes the spool.
/// </summary>
public sealed class CollectorProcess : IDisposable
{
    /// <summary>The SQLite journal's file inside the spool folder, as Spool.JournalConfig names it.</summary>
    public const string JournalFileName = "spool.db";

    private const string ListeningLine = "Now listening on: ";
    // Answers without touching the spool, Kafka or Redis, and is mapped only once the host (and its actor system) runs.
    private const string ReadinessPath = "/metrics";
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(30);
    private static readonly HttpClient Probe = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(2) };

    private readonly Dictionary<string, string> _environment;
    private readonly List<ChildProcess> _incarnations = [];

    private CollectorProcess(int port, string spoolFolder, Dictionary<string, string> environment)
    {
        Port = port;
        SpoolFolder = spoolFolder;
        _environment = environment;
    }

    /// <summary>The loopback port, kept across restarts.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>, no trailing slash.</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>The spool folder (a temporary folder, kept across restarts, deleted on dispose).</summary>
    public string SpoolFolder { get; }

    /// <summary>Full path of the SQLite journal.</summary>
    public string JournalFile => Path.Combine(SpoolFolder, JournalFileName);

    /// <summary>The running (or last) incarnation.</summary>
    public ChildProcess Current => _incarnations[^1];

    /// <summary>PID of the current incarnation.</summary>
    public int Pid => Current.Pid;

    /// <summary>How many times the collector was started (1 + restarts).</summary>
    public int Starts => _incarnations.Count;

    /// <summary>Output of every incarnation, oldest first, for assertion messages.</summary>
    public string Output => string.Join('\n', _incarnations.Select(p => $"--- pid {p.Pid}\n{p.Output}"));

    /// <summary>
    /// Starts the collector against <paramref name="kafkaBootstrapServers"/> with <paramref name="settings"/> as extra
    /// environment variables, and returns once it listens and answers HTTP.
    /// </summary>
    public static async Task<CollectorProcess> StartAsync(
        string kafkaBootstrapServers, IReadOnlyDictionary<string, string>? settings = null, TimeSpan? startTimeout = null)
    {
        var spoolFolder = Directory.CreateTempSubdirectory("collector-spool-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["Kafka__BootstrapServers"] = kafkaBootstrapServers,
            ["Spool__Path"] = spoolFolder,
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
            environment[name] = value;

        var collector = new CollectorProcess(FreeLoopbackPort(), spoolFolder, environment);
        try
        {
            await collector.StartIncarnationAsync(startTimeout ?? DefaultStartTimeout);
            return collector;
        }
        catch
        {
            collector.Dispose();
            throw;
        }
    }

    /// <summary>SIGKILL: no shutdown at all, as after the OOM killer or a lost host.</summary>
    public bool Kill() => Current.Kill();

    /// <summary>SIGTERM: the process manager's polite stop (coordinated shutdown).</summary>
    public bool Terminate() => Current.SendSignal(Signals.SIGTERM);

    /// <summary>Waits for the current incarnation to exit; returns its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout) => Current.WaitForExitAsync(timeout);

    /// <summary>
    /// Starts the collector again on the same port, spool and settings once the current incarnation has exited
    /// (<see cref="Kill"/> or <see cref="Terminate"/> it first); returns once the new one answers HTTP.
    /// </summary>
    /// <exception cref="TimeoutException">The old incarnation did not exit, or the new one did not answer, in time.</exception>
    public async Task RestartAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultStartTimeout;
        await Current.WaitForExitAsync(limit);
        await StartIncarnationAsync(limit);
    }

    /// <summary>Kills every incarnation still running, by PID, and deletes the spool folder.</summary>
    public void Dispose()
    {
        foreach (var incarnation in _incarnations)
            incarnation.Dispose();
        try
        {
            Directory.Delete(SpoolFolder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone: nothing to clean.
        }
    }

    private async Task StartIncarnationAsync(TimeSpan timeout)
    {
        var started = DateTime.UtcNow;
        var process = ChildProcess.StartDotnet(CollectorBinary.Path, ["--urls", BaseUrl], _environment);
        _incarnations.Add(process);
        await process.WaitForLineAsync(line => line.Contains(ListeningLine + BaseUrl, StringComparison.Ordinal), timeout);
        await WaitUntilAnsweringAsync(process, timeout - (DateTime.UtcNow - started));
    }

    private async Task WaitUntilAnsweringAsync(ChildProcess process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var lastProblem = "no attempt";
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await Probe.GetAsync(BaseUrl + ReadinessPath);
                if (response.IsSuccessStatusCode)
                    return;
                lastProblem = $"GET {ReadinessPath} answered {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                lastProblem = e.Message;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
        throw new TimeoutException(
            $"The collector (pid {process.Pid}) at {BaseUrl} is not answering ({(process.HasExited ? "it exited" : lastProblem)}). Output:\n{process.Output}");
    }

    /// <summary>A port nobody listens on right now: bind port 0 on loopback, note what the kernel chose, release it.</summary>
    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
