using System.Globalization;
using AkkaCollector.Rig.Verification;
using Spectre.Console;

namespace AkkaCollector.Rig.Traffic;

/// <summary>
/// <c>loadgen</c>: sends generated events to collectors on this machine and reports what came back.
/// <code>loadgen --url http://127.0.0.1:8080[,URL...] [--rate N|max] [--concurrency N] [--batch N] [--duration 30s] [--count N]
///         [--users N] [--write-keys N] [--timeout 10s] [--give-up-after 0s] [--ledger FILE]</code>
/// </summary>
public static class LoadgenVerb
{
    private static readonly string[] Valued = ["url", "rate", "concurrency", "batch", "duration", "count", "users", "write-keys", "timeout", "give-up-after", "ledger"];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken stop)
    {
        var line = new CommandLine(args, Valued, []);
        var targets = TargetPool.Parse(line.Text("url") ?? throw new ArgumentException("--url is required (one or more comma-separated loopback URLs)."));
        var defaults = new LoadOptions();
        var options = new LoadOptions
        {
            Rate = line.Text("rate") is { } rate ? rate == "max" ? 0 : double.Parse(rate, CultureInfo.InvariantCulture) : defaults.Rate,
            Concurrency = line.Int("concurrency", defaults.Concurrency),
            BatchSize = line.Int("batch", defaults.BatchSize),
            Duration = line.Duration("duration") ?? defaults.Duration,
            MaxEvents = line.Long("count", defaults.MaxEvents),
            Users = line.Int("users", defaults.Users),
            WriteKeys = line.Int("write-keys", defaults.WriteKeys),
            RequestTimeout = line.Duration("timeout") ?? defaults.RequestTimeout,
            GiveUpAfter = line.Duration("give-up-after") ?? defaults.GiveUpAfter,
        };
        var runId = $"lg{DateTime.UtcNow:yyyyMMddHHmmss}";
        var ledgerPath = line.Text("ledger") ?? DefaultLedgerPath(runId);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(ledgerPath))!);

        using var ledger = new Ledger(ledgerPath);
        using var generator = new LoadGenerator(options, targets, ledger, runId);
        AnsiConsole.MarkupLine($"[bold]loadgen[/] {targets.Targets.Count} target(s), rate {(options.Rate > 0 ? $"{options.Rate:0} ev/s" : "max")}, " +
                               $"concurrency {options.Concurrency}, batch {options.BatchSize}, for {options.Duration} or {options.MaxEvents} events; ledger {Markup.Escape(ledgerPath)}");
        var summary = await ShowProgressAsync(generator, stop);
        AnsiConsole.Write(SummaryTable(summary));
        return 0;
    }

    /// <summary>
    /// Where the ledger goes without <c>--ledger</c>: under rig-runs/ (git-ignored, beside the scenario runs), never
    /// loose in the working directory, which is often the repository root.
    /// </summary>
    public static string DefaultLedgerPath(string runId) => Path.Combine("rig-runs", "loadgen", $"{runId}.ledger.tsv");

    /// <summary>Runs the generator while a live panel shows its counters (a line every 5 s when output is not a terminal).</summary>
    public static async Task<LoadSnapshot> ShowProgressAsync(LoadGenerator generator, CancellationToken stop)
    {
        var run = generator.RunAsync(stop);
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Live(ProgressLine(generator.Stats.Snapshot())).StartAsync(async context =>
            {
                while (await Task.WhenAny(run, Task.Delay(500, CancellationToken.None)) != run)
                    context.UpdateTarget(ProgressLine(generator.Stats.Snapshot()));
            });
        }
        else
        {
            while (await Task.WhenAny(run, Task.Delay(5000, CancellationToken.None)) != run)
                AnsiConsole.Write(ProgressLine(generator.Stats.Snapshot()));
        }
        return await run;
    }

    /// <summary>One line of live counters.</summary>
    public static Markup ProgressLine(LoadSnapshot s) => new($"[grey]{s.Elapsed:mm\\:ss}[/] {ProgressText(s)}\n");

    /// <summary>The live counters as Spectre markup.</summary>
    public static string ProgressText(LoadSnapshot s) =>
        $"sent [bold]{s.EventsSent}[/] acked [green]{s.EventsAcked}[/] 4xx [yellow]{s.Events4xx}[/] " +
        $"5xx [red]{s.Events5xx}[/] conn-err [red]{s.ConnectionErrors}[/] p99 {s.Latency.P99:0.0} ms  {s.AckedPerSecond:0} ev/s";

    /// <summary>The end-of-run summary: counts, failures by cause, latency percentiles, throughput.</summary>
    public static Table SummaryTable(LoadSnapshot s)
    {
        var table = new Table().Title("traffic summary").AddColumn("what").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("requests", $"{s.Requests}");
        table.AddRow("events sent (every attempt)", $"{s.EventsSent}");
        table.AddRow("events acked (200)", $"[green]{s.EventsAcked}[/]");
        table.AddRow("events 4xx", $"{s.Events4xx}");
        table.AddRow("events 5xx", $"{s.Events5xx}");
        table.AddRow("connection errors (requests)", $"{s.ConnectionErrors}");
        foreach (var (cause, events) in s.FailedEventsByCause)
            table.AddRow($"  attempts not acked: {Markup.Escape(cause)}", $"{events}");
        table.AddRow("latency p50 / p90 / p99 / p99.9 / max (ms)",
            $"{s.Latency.P50:0.00} / {s.Latency.P90:0.00} / {s.Latency.P99:0.00} / {s.Latency.P999:0.00} / {s.Latency.Max:0.00}");
        table.AddRow("acked events/s", $"{s.AckedPerSecond:0}");
        table.AddRow("elapsed", $"{s.Elapsed.TotalSeconds:0.0} s");
        return table;
    }
}
