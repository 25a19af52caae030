using AkkaCollector.Rig.Scenarios;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// One collector process the benchmark measures, with its own spool: the process, the probe that reads its CPU and
/// peak memory, and the gauges that read its counters, Kafka's watermarks and its journal. Disposing stops it (SIGTERM,
/// then SIGKILL by PID), keeps its log in the run directory and deletes its spool: after the outage phase a SQLite
/// spool holds ~700 MB, and a few runs filled this machine's disk.
/// </summary>
internal sealed class BenchCollector(CollectorNode node, ProcessProbe probe, CollectorGauges gauges, string logFile, string spool) : IAsyncDisposable
{
    private readonly CollectorNode _node = node;
    private readonly string _logFile = logFile;
    private readonly string _spool = spool;

    public ProcessProbe Probe { get; } = probe;

    public CollectorGauges Gauges { get; } = gauges;

    public int Pid => Probe.Pid;

    public Uri BaseUrl => _node.Url;

    /// <summary>Starts a collector named <paramref name="name"/> whose spool is RUN/<paramref name="name"/>-spool, and waits until it answers.</summary>
    public static async Task<BenchCollector> StartAsync(string name, string runDirectory, IReadOnlyDictionary<string, string> configuration,
        string bootstrapServers, string topic, CancellationToken stop)
    {
        var spool = Path.Combine(Path.GetFullPath(runDirectory), $"{name}-spool");
        var node = new CollectorNode(name, "local", spool, configuration);
        var logFile = Path.Combine(runDirectory, $"{name}.log");
        try
        {
            await node.StartAsync(stop);
        }
        catch
        {
            await File.WriteAllTextAsync(logFile, node.Output, CancellationToken.None);
            node.Dispose();
            throw;
        }
        var probe = new ProcessProbe(node.Pid ?? throw new InvalidOperationException($"Collector {name} is not running."));
        var postgres = configuration.TryGetValue("Spool__Provider", out var provider) && provider == "postgresql" ? configuration["Spool__ConnectionString"] : null;
        return new BenchCollector(node, probe, new CollectorGauges(node.Url, bootstrapServers, topic, Path.Combine(spool, "spool.db"), postgres), logFile, spool);
    }

    public Uri Url(string path) => new(_node.Url, path);

    /// <summary>SIGKILL by PID, for a rig that is exiting without its normal clean-up.</summary>
    public void Kill() => _node.Dispose();

    public async ValueTask DisposeAsync()
    {
        Gauges.Dispose();
        if (_node.Pid is not null)
            await _node.StopAsync();
        await File.WriteAllTextAsync(_logFile, _node.Output, CancellationToken.None);
        _node.Dispose();
        if (Directory.Exists(_spool))
            Directory.Delete(_spool, recursive: true);
    }
}
