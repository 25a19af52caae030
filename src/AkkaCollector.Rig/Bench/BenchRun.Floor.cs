using Spectre.Console;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// The durable floor (<see cref="FloorHostVerb"/>): the same single events, at the collector's two connection counts,
/// against a host that only parses, group-commits to SQLite and hands to Kafka. Two ratios follow: the floor over the
/// HTTP ceiling, which is what any design that stores before it answers costs on this machine, and the collector over
/// the floor, which is the collector's own share. The targets stay as issue 18 set them; these rows say how far below
/// the floor a target lies.
/// </summary>
internal sealed partial class BenchRun
{
    private ReferenceHostProcess? _floor;
    private string _floorJournal = "";

    private async Task StartFloorHostAsync(CancellationToken stop)
    {
        if (settings.Lookups)
            return;
        _floorJournal = Path.Combine(settings.RunDirectory, "floor-journal.db");
        _floor = await ReferenceHostProcess.StartAsync(FloorHostVerb.Name,
            ["--journal", _floorJournal, "--kafka", _kafka!.BootstrapServers, "--topic", Topic], stop);
        console.MarkupLine($"durable floor host pid {_floor.Pid} at {_floor.BaseUrl}");
    }

    /// <summary>
    /// The floor's best single-event phase against the HTTP ceiling, and the collector's best against it. Its warm-up
    /// runs here, after the collector's phases, and the host stops with its journal deleted right after its own: the
    /// hundreds of MB it writes would otherwise be flushed to disk while the collector's phases sync theirs.
    /// </summary>
    private async Task MeasureFloorAsync(BenchPhase http, IReadOnlyList<BenchPhase> collectorSingles, CancellationToken stop)
    {
        await WarmUpAsync($"durable floor host {_floor!.Pid}", _floor.JitSecondsAsync,
            [(_floor.EventUrl, _referenceBodies, 64), (_floor.EventUrl, _referenceBodies, 256)], stop);
        var d = settings.Duration;
        var floor64 = await MeasureReferenceAsync(_floor!, "floor-64", "durable floor host", new WrkLoad(_floor!.EventUrl, _referenceBodies, 64, d), stop);
        var floor256 = await MeasureReferenceAsync(_floor, "floor-256", "durable floor host", new WrkLoad(_floor.EventUrl, _referenceBodies, 256, d), stop);
        var floor = new[] { floor64, floor256 }.MaxBy(p => p.Acked)!;
        var collector = collectorSingles.MaxBy(p => p.EndToEnd ?? 0)!;
        _ratios.Add(PhaseRatio($"durable floor ÷ HTTP ceiling, single events ({floor.Name} / {http.Name})", floor, http));
        // The floor always journals to SQLite; on a PostgreSQL run this row compares the two providers too.
        var providers = OnPostgres ? "; the collector on PostgreSQL, the floor on SQLite" : "";
        _ratios.Add(PhaseRatio($"collector ÷ durable floor, single events ({collector.Name} / {floor.Name}{providers})", collector, floor));
        StopFloorHost();
    }

    /// <summary>Stops the floor host by PID and throws its journal away: it is never truncated, so it holds every event of its phases.</summary>
    private void StopFloorHost()
    {
        _floor?.Dispose();
        _floor = null;
        foreach (var file in new[] { _floorJournal, _floorJournal + "-wal", _floorJournal + "-shm" })
            if (file.Length > 0 && File.Exists(file))
                File.Delete(file);
    }
}
