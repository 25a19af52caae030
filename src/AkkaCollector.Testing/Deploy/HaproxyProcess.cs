using System.Diagnostics;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Testing.Deploy;

/// <summary>
/// Debian's haproxy (from PATH) in the foreground, configured by <see cref="DeployTemplates.Haproxy"/> for the given
/// collectors: producers on one free loopback port, stats (<c>/stats</c>, <c>/stats;csv</c>) and its Prometheus
/// exporter (<c>/metrics</c>) on another. Every request is logged to its output. Disposing kills it by PID.
/// </summary>
public sealed class HaproxyProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private readonly ChildProcess _process;

    private HaproxyProcess(ChildProcess process, int producersPort, int statsPort, string configPath)
    {
        _process = process;
        ProducersUrl = new Uri($"http://127.0.0.1:{producersPort}");
        StatsUrl = new Uri($"http://127.0.0.1:{statsPort}");
        ConfigPath = configPath;
    }

    /// <summary>Where producers send: the load balancer's front end.</summary>
    public Uri ProducersUrl { get; }

    /// <summary>The stats front end: <c>/stats;csv</c> and <c>/metrics</c>.</summary>
    public Uri StatsUrl { get; }

    /// <summary>The rendered configuration it runs.</summary>
    public string ConfigPath { get; }

    public int Pid => _process.Pid;

    /// <summary>Its output: start-up messages, server state changes, one line per request (httplog).</summary>
    public string Output => _process.Output;

    /// <summary>
    /// Renders the configuration into <paramref name="folder"/>, checks it (<c>haproxy -c</c>), starts haproxy and
    /// returns once its stats answer.
    /// </summary>
    public static async Task<HaproxyProcess> StartAsync(string folder, IEnumerable<BalancedCollector> collectors, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        // Two different ports: HAProxy would not fail on one port bound twice (LoopbackPort.Free).
        var ports = LoopbackPort.Free(2);
        var (producersPort, statsPort) = (ports[0], ports[1]);
        var configPath = Path.Combine(folder, "haproxy.cfg");
        await File.WriteAllTextAsync(configPath, DeployTemplates.Haproxy($"127.0.0.1:{producersPort}", $"127.0.0.1:{statsPort}", collectors), cancellationToken);
        // -db: foreground, no daemon; the parent watch of ChildProcess kills it if its starter dies.
        var process = ChildProcess.Start("haproxy", ["-db", "-f", configPath]);
        var haproxy = new HaproxyProcess(process, producersPort, statsPort, configPath);
        try
        {
            await haproxy.WaitForStatsAsync(cancellationToken);
            return haproxy;
        }
        catch
        {
            haproxy.Dispose();
            throw;
        }
    }

    /// <summary>One stats row per front end, back end and server (the CSV of <c>/stats;csv</c>).</summary>
    public async Task<IReadOnlyList<HaproxyStatsRow>> StatsAsync(HttpClient http, CancellationToken cancellationToken = default) =>
        HaproxyStatsRow.ParseCsv(await http.GetStringAsync(new Uri(StatsUrl, "/stats;csv"), cancellationToken));

    /// <summary>Waits until HAProxy has every server UP (its checks passed), so that a run starts with every collector in rotation.</summary>
    /// <exception cref="TimeoutException">Some server still not UP after <paramref name="timeout"/>; the message says which.</exception>
    public async Task WaitUntilAllUpAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();
        IReadOnlyList<HaproxyStatsRow> servers = [];
        while (clock.Elapsed < timeout)
        {
            servers = (await StatsAsync(http, cancellationToken)).Where(r => r.Name is not ("FRONTEND" or "BACKEND")).ToArray();
            if (servers.Count > 0 && servers.All(r => r.Status == "UP"))
                return;
            await Task.Delay(200, cancellationToken);
        }
        throw new TimeoutException(
            $"haproxy (pid {_process.Pid}) did not see every server UP within {timeout}: {string.Join(", ", servers.Select(r => $"{r.Name} {r.Status}"))}");
    }

    public void Dispose() => _process.Dispose();

    private Task WaitForStatsAsync(CancellationToken cancellationToken) =>
        _process.WaitUntilAnswersAsync(StartTimeout, async http =>
        {
            await StatsAsync(http, cancellationToken);
            return true;
        }, $"haproxy ({ConfigPath}) did not answer on its stats port (apt-get install haproxy when it is missing)", cancellationToken);
}

/// <summary>
/// One row of HAProxy's stats CSV (management guide, "9.1. CSV format"): a front end, back end or server with the
/// columns the rig reads. <paramref name="Status"/> is UP, DOWN, "UP 1/2" (failing checks, still in rotation),
/// "DOWN 1/2" (passing checks, not yet back), MAINT, NOLB, OPEN...
/// </summary>
/// <param name="CheckDowns">chkdown: UP to DOWN transitions since start.</param>
/// <param name="Retries">wretr: connection attempts or requests retried.</param>
/// <param name="Redispatches">wredis: retries sent to another server.</param>
/// <param name="Responses5xx">hrsp_5xx: answers 500 and above sent (front end: to the producers).</param>
public sealed record HaproxyStatsRow(
    string Proxy, string Name, string Status, long CheckDowns, long Retries, long Redispatches, long Responses5xx, long Requests)
{
    /// <summary>Parses the CSV, header line first (<c># pxname,svname,...</c>).</summary>
    public static IReadOnlyList<HaproxyStatsRow> ParseCsv(string csv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0 || !lines[0].StartsWith("# ", StringComparison.Ordinal))
            throw new FormatException($"Not HAProxy's stats CSV: '{(lines.Length == 0 ? "" : lines[0])}'");
        var columns = lines[0][2..].Split(',').Select((name, index) => (name, index)).ToDictionary(c => c.name, c => c.index, StringComparer.Ordinal);
        return lines.Skip(1).Select(line =>
        {
            var cells = line.Split(',');
            string Text(string column) => columns.TryGetValue(column, out var i) && i < cells.Length ? cells[i] : "";
            long Number(string column) => long.TryParse(Text(column), out var n) ? n : 0;
            return new HaproxyStatsRow(Text("pxname"), Text("svname"), Text("status"), Number("chkdown"), Number("wretr"),
                Number("wredis"), Number("hrsp_5xx"), Number("req_tot"));
        }).ToArray();
    }
}
