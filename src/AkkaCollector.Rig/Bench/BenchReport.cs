using System.Globalization;
using System.Text;

namespace AkkaCollector.Rig.Bench;

/// <summary>The benchmark's tables as Markdown: printed at the end of a run (wide rows read better than a wrapped console table) and kept as results.md.</summary>
public static class BenchReport
{
    private static readonly string[] PhaseColumns =
        ["phase", "load", "events/s acked", "events/s end to end", "p50 ms", "p99 ms", "collector CPU %", "CPU µs/event", "wrk/producer, mock CPU %", "peak RSS MB", "load avg", "notes"];

    private static readonly string[] RatioColumns = ["ratio", "measured", "events/s", "p99", "CPU µs/event"];

    private static readonly string[] TargetColumns = ["target", "measured", "ratio", "met"];

    public static string Markdown(string header, IReadOnlyList<BenchPhase> phases, IReadOnlyList<BenchRatio> ratios, IReadOnlyList<BenchTarget> targets)
    {
        var text = new StringBuilder();
        text.AppendLine(header).AppendLine();
        AppendTable(text, PhaseColumns, phases.Select(Cells));
        text.AppendLine();
        if (ratios.Count > 0)
        {
            AppendTable(text, RatioColumns, ratios.Select(r => new[] { r.Name, r.Measured, r.Rate, r.P99, r.CpuPerEvent }));
            text.AppendLine();
        }
        AppendTable(text, TargetColumns, targets.Select(t => new[] { t.Target, t.Measured, t.Ratio, t.Met ? "met" : "**not met**" }));
        return text.ToString();
    }

    private static void AppendTable(StringBuilder text, IReadOnlyList<string> columns, IEnumerable<string[]> rows)
    {
        text.AppendLine("| " + string.Join(" | ", columns) + " |");
        text.AppendLine("|" + string.Concat(columns.Select(_ => " --- |")));
        foreach (var row in rows)
            text.AppendLine("| " + string.Join(" | ", row.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |");
    }

    private static string[] Cells(BenchPhase p) =>
    [
        p.Name, p.Load, Number(p.Acked), p.EndToEnd is { } e2e ? Number(e2e) : "-", Millis(p.P50Ms), Millis(p.P99Ms),
        Number(p.CollectorCpu), Number(p.CpuPerEvent), p.OtherCpu, Number(p.PeakRss / 1048576.0), p.LoadAverage.ToString("0.0", CultureInfo.InvariantCulture), p.Notes,
    ];

    public static string Number(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    public static string Millis(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0", CultureInfo.InvariantCulture);

    public static string Micros(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);

    public static string Times(double ratio) => ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x";

    public static string Percent(double ratio) => (ratio * 100).ToString("0", CultureInfo.InvariantCulture) + " %";
}
