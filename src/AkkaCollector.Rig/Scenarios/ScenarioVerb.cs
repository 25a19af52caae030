using AkkaCollector.Rig.Verification;
using AkkaCollector.Rig.LoadBalancer;
using AkkaCollector.Rig.Report;
using Spectre.Console;

namespace AkkaCollector.Rig.Scenarios;

/// <summary>
/// <c>scenario run FILE|NAME [--duration D] [--confirm] [--dry-run] [--out DIR]</c> and <c>scenario list</c>.
/// NAME is a scenario shipped in the rig's scenarios folder (az-outage, kafka-down, kill-9, redis-blackhole, scale-down).
/// The last two lines printed are the load balancer's view, <c>lb: 5xx=N marked_down=N not_answered=N</c>, and the
/// verdict, <c>lost=N duplicates=N acked=N</c>; the exit code is 0 only when nothing acknowledged was lost, enough was
/// acknowledged (<see cref="Acceptance"/>), every step ran and the lb line reads 0 three times (<see cref="LbFigures.Clean"/>).
/// </summary>
public static class ScenarioVerb
{
    private static readonly string[] Valued = ["duration", "out"];
    private static readonly string[] Flags = ["confirm", "dry-run"];

    private static string ShippedFolder => Path.Combine(AppContext.BaseDirectory, "scenarios");

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken stop)
    {
        var line = new CommandLine(args, Valued, Flags);
        if (line.Positional.Count != 1)
            throw new ArgumentException("scenario run takes one FILE or NAME (see `scenario list`).");
        var scenario = Scenario.Load(Resolve(line.Positional[0]));
        var duration = line.Duration("duration") ?? CommandLine.ParseDuration(scenario.Duration);
        if (line.Has("dry-run"))
        {
            AnsiConsole.Write(Plan(scenario, duration));
            return 0;
        }
        var folder = line.Text("out") ?? Path.Combine("rig-runs", $"{scenario.Name}-{DateTime.Now:yyyyMMdd-HHmmss}");
        var runner = new ScenarioRunner(scenario, new RunSettings(duration, line.Has("confirm"), Path.GetFullPath(folder)), AnsiConsole.Console);
        var result = await runner.RunAsync(stop);
        if (RunReport.StoppedEarlyNote(result.StoppedBecause, result.Verdict, result.RunDirectory) is { } note)
            AnsiConsole.MarkupLine(Markup.Escape(note));
        // The load balancer's view, then the verdict: scripts and CI read these two lines; nothing may be printed after them.
        Console.Out.WriteLine((result.LoadBalancer ?? LbFigures.None).Line);
        Console.Out.WriteLine(result.Verdict.Line);
        return result.ExitCode;
    }

    public static int List()
    {
        foreach (var file in Directory.EnumerateFiles(ShippedFolder, "*.yaml").Order(StringComparer.Ordinal))
        {
            var scenario = Scenario.Load(file);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(scenario.Name)}[/] ({scenario.Duration}): {Markup.Escape(scenario.Description.Trim().ReplaceLineEndings(" "))}");
        }
        return 0;
    }

    /// <summary>A path to a file, or the name of a shipped scenario.</summary>
    public static string Resolve(string fileOrName)
    {
        if (File.Exists(fileOrName))
            return fileOrName;
        var shipped = Path.Combine(ShippedFolder, fileOrName.EndsWith(".yaml", StringComparison.Ordinal) ? fileOrName : fileOrName + ".yaml");
        return File.Exists(shipped)
            ? shipped
            : throw new FileNotFoundException($"No scenario file '{fileOrName}' and no shipped scenario of that name in {ShippedFolder}.");
    }

    /// <summary>What a run would do, for <c>--dry-run</c>: topology, traffic, and each step with its planned start.</summary>
    public static Table Plan(Scenario scenario, TimeSpan duration)
    {
        var table = new Table().Title($"plan: {Markup.Escape(scenario.Name)} ({duration})").AddColumn("#").AddColumn("at").AddColumn("step");
        var zones = string.Join(", ", scenario.Topology.Zones.Select(z => $"zone {z.Name}: {z.Collectors} collector(s)"));
        table.AddRow("", "", Markup.Escape($"start {zones}; a Kafka mock per zone ({scenario.Topology.Kafka.Brokers} broker(s), {scenario.Topology.Kafka.Partitions} partitions)" +
                                           (scenario.Topology.Redis ? "; redis-server behind a fault proxy per collector" : "") +
                                           "; haproxy in front of every collector; prometheus scraping them and haproxy"));
        table.AddRow("", "", Markup.Escape($"traffic: {scenario.Traffic.Rate} events/s, batch {scenario.Traffic.Batch}, concurrency {scenario.Traffic.Concurrency}, through haproxy"));
        var at = TimeSpan.Zero;
        for (var i = 0; i < scenario.Steps.Count; i++)
        {
            var step = scenario.Steps[i];
            var risky = StepSpec.Risky.Contains(step.Do) ? " [yellow](confirmed with --confirm)[/]" : "";
            table.AddRow($"{i + 1}", $"{at:mm\\:ss}", Markup.Escape(step.Describe()) + risky);
            if (step.Do == "wait")
                at += Scenario.ResolveWait(step.For!, duration);
        }
        table.Caption($"then: report, stop every process, print `{LbFigures.None.Line.Replace("0", "N", StringComparison.Ordinal)}` and `{new Verdict(0, 0, 0, 0, new Dictionary<string, int>(), 0, []).Line.Replace("0", "N", StringComparison.Ordinal)}`");
        return table;
    }
}
