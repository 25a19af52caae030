using System.Globalization;
using System.Text.Json;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Testing.Deploy;

/// <summary>An alert rule's series as Prometheus kept it: the rule's name, its state (pending, firing) and its labels.</summary>
public sealed record AlertSeen(string Name, string State, IReadOnlyDictionary<string, string> Labels);

/// <summary>
/// Debian's prometheus (from PATH) on a free loopback port, configured by <see cref="DeployTemplates.Prometheus"/> with
/// the alert rules of docker/prometheus/alerts.yml beside it, its storage in the given folder. Disposing kills it by PID.
/// </summary>
public sealed class PrometheusProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly ChildProcess _process;

    private PrometheusProcess(ChildProcess process, int port)
    {
        _process = process;
        Url = new Uri($"http://127.0.0.1:{port}");
    }

    /// <summary>Its web UI and HTTP API.</summary>
    public Uri Url { get; }

    public int Pid => _process.Pid;

    /// <summary>Its log.</summary>
    public string Output => _process.Output;

    /// <summary>Renders prometheus.yml into <paramref name="folder"/> beside a copy of alerts.yml, starts prometheus and returns once it is ready.</summary>
    public static async Task<PrometheusProcess> StartAsync(string folder, IEnumerable<BalancedCollector> collectors, string haproxyTarget, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, DeployTemplates.Prometheus(collectors, haproxyTarget), cancellationToken);
        File.Copy(DeployTemplates.AlertRules, Path.Combine(folder, "alerts.yml"), overwrite: true);
        var port = LoopbackPort.Free();
        var process = ChildProcess.Start("prometheus",
        [
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        ]);
        var prometheus = new PrometheusProcess(process, port);
        try
        {
            await prometheus.WaitUntilReadyAsync(cancellationToken);
            return prometheus;
        }
        catch
        {
            prometheus.Dispose();
            throw;
        }
    }

    /// <summary>Every alert that was pending or firing at some evaluation of the last <paramref name="window"/>, from the ALERTS series.</summary>
    public async Task<IReadOnlyList<AlertSeen>> AlertsSeenAsync(HttpClient http, TimeSpan window, CancellationToken cancellationToken = default)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(window.TotalSeconds));
        var query = Uri.EscapeDataString($"max_over_time(ALERTS[{seconds.ToString(CultureInfo.InvariantCulture)}s])");
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(Url, $"/api/v1/query?query={query}"), cancellationToken));
        return document.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().Select(series =>
        {
            var labels = series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
            return new AlertSeen(labels.GetValueOrDefault("alertname", ""), labels.GetValueOrDefault("alertstate", ""), labels);
        }).OrderBy(a => a.Name, StringComparer.Ordinal).ThenBy(a => a.State, StringComparer.Ordinal).ToArray();
    }

    public void Dispose() => _process.Dispose();

    private Task WaitUntilReadyAsync(CancellationToken cancellationToken) =>
        _process.WaitUntilAnswersAsync(StartTimeout, async http =>
        {
            using var answer = await http.GetAsync(new Uri(Url, "/-/ready"), cancellationToken);
            return answer.IsSuccessStatusCode;
        }, $"prometheus was not ready on {Url} (apt-get install prometheus when it is missing)", cancellationToken);
}
