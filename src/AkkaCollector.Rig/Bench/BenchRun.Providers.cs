using AkkaCollector.Testing.Postgres;
using Spectre.Console;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// <c>bench --set Spool:Provider=postgresql</c>: the collector under test spools to PostgreSQL (a throwaway server the
/// run starts, unless <c>Spool:ConnectionString</c> names one), and the same single-event and batch phases run on a
/// second collector spooling to SQLite, so one run gives both providers' figures side by side on the same machine load.
/// </summary>
internal sealed partial class BenchRun
{
    private const string ProviderSetting = "Spool__Provider";
    private const string ConnectionStringSetting = "Spool__ConnectionString";
    private PostgresServer? _postgres;

    private bool OnPostgres => settings.Overrides.TryGetValue(ProviderSetting, out var provider) && provider == "postgresql";

    /// <summary>A PostgreSQL spool database for the collector under test, when it spools to PostgreSQL and none was named.</summary>
    private async Task<IReadOnlyDictionary<string, string>> SpoolDatabaseAsync()
    {
        if (!OnPostgres || settings.Overrides.ContainsKey(ConnectionStringSetting))
            return new Dictionary<string, string>();
        _postgres = await PostgresServer.StartAsync();
        console.MarkupLine($"postgres pid {_postgres.Pid} on port {_postgres.Port}: the spool of the collector under test");
        return new Dictionary<string, string> { [ConnectionStringSetting] = await _postgres.CreateDatabaseAsync("bench_spool", pooled: true) };
    }

    /// <summary>On PostgreSQL: the same loads on a SQLite collector, and PostgreSQL's single-event rate against SQLite's.</summary>
    private async Task MeasureSqliteBesideAsync(BenchPhase track64, BenchPhase track256, BenchPhase batch, CancellationToken stop)
    {
        if (!OnPostgres)
            return;
        var configuration = CollectorConfiguration();
        configuration.Remove(ProviderSetting);
        configuration.Remove(ConnectionStringSetting);
        await using var sqlite = await StartCollectorAsync("collector-sqlite", configuration, stop);
        var d = settings.Duration;
        await WarmUpAsync(sqlite, [("/v1/track", _trackBodies, 64), ("/v1/track", _trackBodies, 256), ("/v1/batch", _batchBodies, 64)], stop);
        var sqlite64 = await MeasureCollectorAsync(sqlite, "sqlite-track-64", new WrkLoad(sqlite.Url("/v1/track"), _trackBodies, 64, d), 1, stop);
        var sqlite256 = await MeasureCollectorAsync(sqlite, "sqlite-track-256", new WrkLoad(sqlite.Url("/v1/track"), _trackBodies, 256, d), 1, stop);
        var sqliteBatch = await MeasureCollectorAsync(sqlite, "sqlite-batch20-64", new WrkLoad(sqlite.Url("/v1/batch"), _batchBodies, 64, d), BatchEvents, stop);

        var postgres = new[] { track64, track256 }.MaxBy(p => p.EndToEnd ?? 0)!;
        var sqliteBest = new[] { sqlite64, sqlite256 }.MaxBy(p => p.EndToEnd ?? 0)!;
        _ratios.Add(PhaseRatio($"PostgreSQL ÷ SQLite, single events ({postgres.Name} / {sqliteBest.Name})", postgres, sqliteBest));
        _ratios.Add(PhaseRatio("PostgreSQL ÷ SQLite, 20-event batches", batch, sqliteBatch));
        var ratio = (postgres.EndToEnd ?? 0) / Math.Max(1, sqliteBest.EndToEnd ?? 0);
        _targets.Add(Ratio("PostgreSQL single events >= 50 % of SQLite's (end to end)",
            $"{BenchReport.Number(postgres.EndToEnd ?? 0)} ev/s ({postgres.Name}) / {BenchReport.Number(sqliteBest.EndToEnd ?? 0)} ev/s ({sqliteBest.Name})", ratio, 0.5));
    }

    private async Task StopPostgresAsync()
    {
        if (_postgres is not null)
            await _postgres.DisposeAsync();
    }
}
