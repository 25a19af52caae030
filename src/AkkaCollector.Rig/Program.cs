using AkkaCollector.Rig.Bench;
using AkkaCollector.Rig.Scenarios;
using AkkaCollector.Rig.Traffic;
using Spectre.Console;

// The outage rig: traffic generator, scenario runner, report. See docs/rig.md.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops the run and lets it clean up (stop every process it started); a second one is not intercepted.
    e.Cancel = !stop.IsCancellationRequested;
    stop.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

// Not on a terminal (CI, a pipe, a log file): Spectre.Console then assumes 80 columns and wraps every table row
// that is wider. A log has no width to fit; COLUMNS still wins when it is set.
if (Console.IsOutputRedirected && Environment.GetEnvironmentVariable("COLUMNS") is null)
    AnsiConsole.Profile.Width = RedirectedWidth;

try
{
    return args switch
    {
        ["loadgen", .. var rest] => await LoadgenVerb.RunAsync(rest, stop.Token),
        ["scenario", "run", .. var rest] => await ScenarioVerb.RunAsync(rest, stop.Token),
        ["scenario", "list", ..] => ScenarioVerb.List(),
        ["bench", .. var rest] => await BenchVerb.RunAsync(rest, stop.Token),
        [NoopHostVerb.Name, .. var rest] => await NoopHostVerb.RunAsync(rest, stop.Token),
        [FloorHostVerb.Name, .. var rest] => await FloorHostVerb.RunAsync(rest, stop.Token),
        _ => Usage(),
    };
}
catch (Exception e) when (e is ArgumentException or FormatException or FileNotFoundException)
{
    AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: AkkaCollector.Rig VERB
          loadgen --url URL[,URL...] [--rate N|max] [--concurrency N] [--batch N] [--duration 30s] [--count N]
                  [--users N] [--write-keys N] [--timeout 10s] [--ledger FILE]
          scenario run FILE|NAME [--duration D] [--confirm] [--dry-run] [--out DIR]
          scenario list
          bench [--quick] [--lookups] [--duration 20s] [--spooled 1000000] [--set "Section:Key=value;..."] [--out DIR]
          noop-host --urls http://127.0.0.1:PORT   (the bench's HTTP ceiling; the bench starts it itself)
          floor-host --urls http://127.0.0.1:PORT --journal FILE --kafka HOST:PORT --topic NAME
                                                   (the bench's durable floor; the bench starts it itself)
        """);
    return 2;
}

/// <summary>Program's constants.</summary>
internal static partial class Program
{
    /// <summary>Columns of the rig's tables when its output is not a terminal: wide enough for every table it prints.</summary>
    private const int RedirectedWidth = 240;
}
