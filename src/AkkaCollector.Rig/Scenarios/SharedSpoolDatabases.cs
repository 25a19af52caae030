using AkkaCollector.Testing.Postgres;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Rig.Scenarios;

/// <summary>
/// With <c>spool: { provider: postgresql }</c>: one throwaway PostgreSQL server for the run and one spool database per
/// zone, which the zone's collectors share, each under its own Collector:InstanceId (its name), as docker/compose.yaml
/// and the Kubernetes PostgreSQL variant run them.
/// </summary>
public sealed class SharedSpoolDatabases : IAsyncDisposable
{
    private readonly PostgresServer _server;
    private readonly string _takeoverAfter;

    private SharedSpoolDatabases(PostgresServer server, string takeoverAfter) => (_server, _takeoverAfter) = (server, takeoverAfter);

    public int Pid => _server.Pid;

    public static async Task<SharedSpoolDatabases> StartAsync(SpoolSpec spec) => new(await PostgresServer.StartAsync(), spec.TakeoverAfter);

    /// <summary>Creates the zone's database; returns each of its collectors' spool settings, by collector name.</summary>
    public async Task<Func<string, IReadOnlyDictionary<string, string>>> ForZoneAsync(string zone)
    {
        var connectionString = await _server.CreateDatabaseAsync($"spool_{zone}", pooled: true);
        return collector => new Dictionary<string, string>
        {
            ["Spool__Provider"] = "postgresql",
            ["Spool__ConnectionString"] = connectionString,
            ["Spool__TakeoverAfter"] = _takeoverAfter,
            ["Collector__InstanceId"] = collector,
        };
    }

    /// <summary>Last resort when the rig itself is going down: SIGKILL by PID.</summary>
    public void Kill() => Signals.Send(_server.Pid, Signals.SIGKILL);

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
