using System.Net;
using System.Net.Sockets;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Rig.Scenarios;

/// <summary>
/// One collector of a scenario: a fixed loopback port and spool folder that survive its restarts, so a restarted
/// collector replays the same journal and the load balancer's target list stays valid.
/// </summary>
public sealed class CollectorNode : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(40);
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly List<string> _pastOutput = [];
    private ChildProcess? _process;

    public CollectorNode(string name, string zone, string spoolPath, IReadOnlyDictionary<string, string> configuration)
    {
        Name = name;
        Zone = zone;
        Port = FreePort();
        Url = new Uri($"http://127.0.0.1:{Port}");
        // Configuration travels as environment variables (Section__Key), as a process manager would set it.
        _environment = new Dictionary<string, string>(configuration)
        {
            ["ASPNETCORE_URLS"] = Url.ToString(),
            ["Spool__Path"] = spoolPath,
            ["Logging__LogLevel__Default"] = "Warning",
        };
    }

    public string Name { get; }

    public string Zone { get; }

    public int Port { get; }

    public Uri Url { get; }

    /// <summary>The running process's id, or null while stopped.</summary>
    public int? Pid => _process is { HasExited: false } process ? process.Pid : null;

    /// <summary>Starts the collector and returns once its /metrics answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Pid is not null)
            throw new InvalidOperationException($"Collector {Name} is already running (pid {Pid}).");
        Retire();
        _process = ChildProcess.StartDotnet(CollectorBinary.Path, [], _environment);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"Collector {Name} exited during start. Output:\n{_process.Output}");
            try
            {
                using var response = await http.GetAsync(new Uri(Url, "/metrics"), cancellationToken);
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Slow to answer while it starts.
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Collector {Name} did not answer on {Url} within {StartTimeout}. Output:\n{_process.Output}");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>A graceful stop: SIGTERM, as pm2, systemd and Kubernetes send; SIGKILL only if it overstays <see cref="StopTimeout"/>. Returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"Collector {Name} was never started.");
        process.SendSignal(Signals.SIGTERM);
        try
        {
            return await process.WaitForExitAsync(StopTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill();
            return await process.WaitForExitAsync(StopTimeout);
        }
    }

    /// <summary><c>kill -9</c>: no shutdown at all, like the OOM killer or a lost host. Returns the exit code.</summary>
    public async Task<int> KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"Collector {Name} was never started.");
        process.Kill();
        return await process.WaitForExitAsync(StopTimeout);
    }

    /// <summary>Everything every run of this collector wrote, oldest first.</summary>
    public string Output => string.Join('\n', _pastOutput.Append(_process?.Output ?? ""));

    /// <summary>SIGKILLs the process if it still runs (by PID).</summary>
    public void Dispose() => _process?.Dispose();

    private void Retire()
    {
        if (_process is null)
            return;
        _pastOutput.Add(_process.Output);
        _process.Dispose();
        _process = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
