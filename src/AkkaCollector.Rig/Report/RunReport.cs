using System.Globalization;
using System.Text;
using AkkaCollector.Rig.LoadBalancer;
using AkkaCollector.Rig.Metrics;
using AkkaCollector.Rig.Scenarios;
using AkkaCollector.Rig.Traffic;
using AkkaCollector.Rig.Verification;
using ScottPlot;

namespace AkkaCollector.Rig.Report;

/// <summary>Everything a run's report is made of.</summary>
/// <param name="TrafficStartedAt">Run clock (seconds) when traffic started: the ledger's times count from there.</param>
/// <param name="EndedAt">Run clock (seconds) at the end.</param>
/// <param name="LatencyP99">p99 request latency (ms) per second of traffic, as the producer measured it.</param>
/// <param name="StoppedBecause">Why the run stopped before its last step (a failed step, a declined step, Ctrl+C); null when every step ran.</param>
/// <param name="LoadBalancer">HAProxy's figures and states, and the alerts; null when the run stopped before HAProxy started.</param>
public sealed record RunReportInput(
    Scenario Scenario, RunSettings Settings, Verdict Verdict, Acceptance Acceptance, bool AllStepsRan, LoadSnapshot? Traffic,
    IReadOnlyList<(int Second, double Millis)> LatencyP99,
    IReadOnlyList<CollectorScrape> Scrapes, IReadOnlyList<StepMark> Steps, IReadOnlyList<LedgerEntry> Ledger,
    double TrafficStartedAt, double EndedAt, string? StoppedBecause = null, LoadBalancerView? LoadBalancer = null);

/// <summary>
/// Writes a run's report: <c>report.md</c> with the verdict, the traffic, the steps and per-collector and per-zone
/// tables, and PNG charts (ScottPlot) of what the story's dashboard showed — events accepted, 5xx by cause, spool
/// backlog, Kafka deliveries, breaker states — every one with the steps marked on its time axis.
/// </summary>
public static class RunReport
{
    private const int Width = 1400;
    private const int Height = 520;

    /// <summary>Writes the report into the run folder and returns the Markdown file's path.</summary>
    public static string Write(RunReportInput input)
    {
        var folder = input.Settings.RunDirectory;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Scenario run: {input.Scenario.Name}");
        md.AppendLine();
        md.AppendLine(input.Scenario.Description.Trim());
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Duration setting {input.Settings.Duration}, run length {input.EndedAt:0} s, every step ran: **{(input.AllStepsRan ? "yes" : "no")}**.");
        md.AppendLine();
        if (StoppedEarlyNote(input.StoppedBecause, input.Verdict, folder) is { } note)
            md.AppendLine(CultureInfo.InvariantCulture, $"**The run failed.** {note}\n");
        WriteVerdict(md, input.Verdict);
        md.AppendLine(CultureInfo.InvariantCulture, $"Acknowledged enough: **{(input.Acceptance.Enough ? "yes" : "NO")}**: {input.Acceptance}.\n");
        WriteTraffic(md, input.Traffic);
        LoadBalancerSection.Write(md, input.LoadBalancer);
        WriteSteps(md, input.Steps);
        WritePerCollector(md, input);
        md.AppendLine("## Charts");
        md.AppendLine();
        md.AppendLine("Time axis: seconds since the run started; dashed lines are the steps other than waits, numbered as in the table above.");
        md.AppendLine();
        foreach (var (file, title) in DrawCharts(input, folder))
            md.AppendLine(CultureInfo.InvariantCulture, $"### {title}\n\n![{title}]({file})\n");
        var path = Path.Combine(folder, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    /// <summary>
    /// What a run that stopped before its last step means for its verdict (the console and report.md say the same);
    /// null when every step ran. Acknowledged events not in Kafka then are not lost: they wait in the spools.
    /// </summary>
    public static string? StoppedEarlyNote(string? stoppedBecause, Verdict verdict, string runDirectory)
    {
        if (stoppedBecause is null)
            return null;
        var note = $"The run stopped before every step ran: {stoppedBecause}.";
        if (verdict.Lost > 0)
            note += $" 'lost={verdict.Lost}' counts acknowledged events not in Kafka when it stopped (Kafka may never have been " +
                    $"restored): they are still in the collectors' spools under {Path.Combine(runDirectory, "spool")}, and a " +
                    "collector started on a spool delivers what it holds.";
        return note;
    }

    private static void WriteVerdict(StringBuilder md, Verdict v)
    {
        md.AppendLine("## Verdict");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"`{v.Line}`");
        md.AppendLine();
        md.AppendLine("| what | events |\n| --- | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| acked | {v.Acked} |\n| lost (acked, never in Kafka) | {v.Lost} |\n| duplicates in Kafka | {v.Duplicates} |");
        foreach (var (origin, count) in v.DuplicatesByOrigin)
            md.AppendLine(CultureInfo.InvariantCulture, $"| duplicates: {Verdict.Describe(origin)} | {count} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| not acked | {v.NotAcked} |\n| not acked but delivered | {v.DeliveredWithoutAck} |");
        foreach (var (cause, count) in v.NotAckedByCause)
            md.AppendLine(CultureInfo.InvariantCulture, $"| not acked: `{cause}` | {count} |");
        md.AppendLine();
        if (v.LostSample.Count > 0)
            md.AppendLine(CultureInfo.InvariantCulture, $"Lost ids (first {v.LostSample.Count}): {string.Join(", ", v.LostSample.Select(id => $"`{id}`"))}\n");
    }

    private static void WriteTraffic(StringBuilder md, LoadSnapshot? s)
    {
        if (s is null)
            return;
        md.AppendLine("## Traffic (as the producer saw it)");
        md.AppendLine();
        md.AppendLine("| what | value |\n| --- | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| requests | {s.Requests} |\n| events sent (every attempt) | {s.EventsSent} |\n| events acked | {s.EventsAcked} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| events answered 4xx | {s.Events4xx} |\n| events answered 5xx | {s.Events5xx} |\n| requests without an answer | {s.ConnectionErrors} |");
        foreach (var (cause, events) in s.FailedEventsByCause)
            md.AppendLine(CultureInfo.InvariantCulture, $"| attempts not acked: `{cause}` | {events} |");
        var l = s.Latency;
        md.AppendLine(CultureInfo.InvariantCulture, $"| latency p50 / p90 / p99 / p99.9 / max | {l.P50:0.0} / {l.P90:0.0} / {l.P99:0.0} / {l.P999:0.0} / {l.Max:0.0} ms |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| acked events/s | {s.AckedPerSecond:0} |");
        md.AppendLine();
    }

    private static void WriteSteps(StringBuilder md, IReadOnlyList<StepMark> steps)
    {
        md.AppendLine("## Steps");
        md.AppendLine();
        md.AppendLine("| # | at (s) | step |\n| ---: | ---: | --- |");
        for (var i = 0; i < steps.Count; i++)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {i + 1} | {steps[i].Seconds:0.0} | {steps[i].Description} |");
        md.AppendLine();
    }

    private static void WritePerCollector(StringBuilder md, RunReportInput input)
    {
        var collectors = input.Scrapes.GroupBy(s => (s.Collector, s.Zone)).OrderBy(g => g.Key.Collector, StringComparer.Ordinal).ToArray();
        md.AppendLine("## Per collector and zone (from /metrics, summed across restarts)");
        md.AppendLine();
        md.AppendLine("| zone | collector | accepted | delivered to Kafka | 5xx answers by cause | seconds not answering /metrics | peak spool backlog |");
        md.AppendLine("| --- | --- | ---: | ---: | --- | ---: | ---: |");
        var zoneTotals = new SortedDictionary<string, (double Accepted, double Delivered)>(StringComparer.Ordinal);
        foreach (var group in collectors)
        {
            var scrapes = group.ToArray();
            var accepted = Increase(scrapes, s => s.Accepted);
            var delivered = Increase(scrapes, s => s.Delivered);
            var causes = scrapes.SelectMany(s => s.ServerErrorsByCause.Keys).Distinct().Order(StringComparer.Ordinal)
                .Select(cause => $"{cause}: {Increase(scrapes, s => s.ServerErrorsByCause.GetValueOrDefault(cause)):0}");
            var down = scrapes.Count(s => !s.Up);
            var backlog = scrapes.Where(s => s.Up).Select(s => s.Backlog).DefaultIfEmpty(0).Max();
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {group.Key.Zone} | {group.Key.Collector} | {accepted:0} | {delivered:0} | {string.Join(", ", causes).DefaultIfBlank("none")} | {down} | {backlog:0} |");
            var zone = zoneTotals.GetValueOrDefault(group.Key.Zone);
            zoneTotals[group.Key.Zone] = (zone.Accepted + accepted, zone.Delivered + delivered);
        }
        md.AppendLine();
        md.AppendLine("| zone | accepted | delivered to Kafka |\n| --- | ---: | ---: |");
        foreach (var (zone, totals) in zoneTotals)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {zone} | {totals.Accepted:0} | {totals.Delivered:0} |");
        md.AppendLine();
    }

    private static IEnumerable<(string File, string Title)> DrawCharts(RunReportInput input, string folder)
    {
        var byCollector = input.Scrapes.GroupBy(s => s.Collector).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Scrapes: g.OrderBy(s => s.Seconds).ToArray())).ToArray();

        yield return Chart(folder, "accepted-per-second.png", "Events accepted per second, per collector", "events/s", input.Steps,
            byCollector.Select(c => (c.Name, Rate(c.Scrapes, s => s.Accepted))));

        var causes = input.Scrapes.SelectMany(s => s.ServerErrorsByCause.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        yield return Chart(folder, "server-errors-per-second.png", "5xx answers per second, per collector and cause", "answers/s", input.Steps,
            byCollector.SelectMany(c => causes.Select(cause => ($"{c.Name} {cause}", Rate(c.Scrapes, s => s.ServerErrorsByCause.GetValueOrDefault(cause)))))
                .Where(series => series.Item2.Any(p => p.Y > 0)));

        yield return Chart(folder, "spool-backlog.png", "Spool backlog (events not yet in Kafka), per collector; gaps: not answering /metrics", "events", input.Steps,
            byCollector.Select(c => (c.Name, WithGaps(c.Scrapes, s => s.Backlog))));

        yield return Chart(folder, "kafka-deliveries-per-second.png", "Kafka deliveries per second, per collector", "events/s", input.Steps,
            byCollector.Select(c => (c.Name, Rate(c.Scrapes, s => s.Delivered))));

        var lookups = input.Scrapes.SelectMany(s => s.Breakers.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        // Every breaker sits at 0, 1 or 2: each line is lifted a little above the previous one so that none hides another.
        yield return Chart(folder, "breaker-states.png", "Breaker state per collector and lookup (0 closed, 1 half-open, 2 open; lines offset by 0.04 each)", "state", input.Steps,
            byCollector.SelectMany(c => lookups.Select(lookup => (Collector: c, Lookup: lookup)))
                .Select((series, index) => ($"{series.Collector.Name} {series.Lookup}",
                    WithGaps(series.Collector.Scrapes, s => s.Breakers.GetValueOrDefault(series.Lookup) + index * 0.04))));

        var zones = byCollector.GroupBy(c => c.Scrapes[0].Zone).OrderBy(g => g.Key, StringComparer.Ordinal).ToArray();
        yield return Chart(folder, "zones.png", "Per zone: events accepted and delivered to Kafka per second", "events/s", input.Steps,
            zones.SelectMany(zone => new[]
            {
                ($"zone {zone.Key} accepted", SumByTime(zone.Select(c => Rate(c.Scrapes, s => s.Accepted)))),
                ($"zone {zone.Key} delivered", SumByTime(zone.Select(c => Rate(c.Scrapes, s => s.Delivered)))),
            }));

        yield return Chart(folder, "latency-p99.png", "What the producer saw: p99 request latency per second", "ms", input.Steps,
            [("p99", input.LatencyP99.Select(p => (input.TrafficStartedAt + p.Second + 0.5, p.Millis)).ToArray())]);

        yield return Chart(folder, "load-balancer-states.png",
            "Each collector in HAProxy (1 in rotation, 0.67 failing checks, 0.33 passing checks but out, 0 out; lines offset by 0.04 each)", "state", input.Steps,
            LoadBalancerSection.StateSeries(input.LoadBalancer));

        yield return Chart(folder, "producer-view.png", "What the producer saw: events acked and not acked (by cause) per second", "events/s", input.Steps,
            ProducerSeries(input));
    }

    private static (string Name, (double X, double Y)[] Points)[] ProducerSeries(RunReportInput input)
    {
        if (input.Ledger.Count == 0)
            return [];
        var seconds = (int)(input.Ledger.Max(e => e.ElapsedMs) / 1000) + 1;
        return input.Ledger.GroupBy(e => e.Outcome == EventOutcome.Acked ? "acked" : $"not acked: {e.Cause}")
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var perSecond = new double[seconds];
                foreach (var entry in g)
                    perSecond[entry.ElapsedMs / 1000]++;
                return (g.Key, perSecond.Select((count, i) => (input.TrafficStartedAt + i + 0.5, count)).ToArray());
            })
            .ToArray();
    }

    private static (string File, string Title) Chart(
        string folder, string file, string title, string yLabel, IReadOnlyList<StepMark> steps, IEnumerable<(string Name, (double X, double Y)[] Points)> series)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("seconds since the run started");
        plot.YLabel(yLabel);
        var drawn = 0;
        foreach (var (name, points) in series.Where(s => s.Points.Any(p => !double.IsNaN(p.Y))))
        {
            // One line per stretch between gaps, in one color, named once in the legend.
            var color = plot.Add.Palette.GetColor(drawn);
            foreach (var (segment, index) in Segments(points).Select((segment, index) => (segment, index)))
            {
                var line = plot.Add.Scatter(segment.Select(p => p.X).ToArray(), segment.Select(p => p.Y).ToArray(), color);
                line.LegendText = index == 0 ? name : "";
                line.MarkerSize = segment.Length == 1 ? 4 : 0;
                line.LineWidth = 2;
            }
            drawn++;
        }
        for (var i = 0; i < steps.Count; i++)
        {
            // A wait is the absence of an event; marking it would only crowd the axis.
            if (steps[i].Kind == "wait")
                continue;
            var mark = plot.Add.VerticalLine(steps[i].Seconds);
            mark.LinePattern = LinePattern.Dashed;
            mark.Color = Colors.Gray;
            mark.LabelText = $"{i + 1}";
            // At the top: at the bottom the step numbers covered the x axis' tick labels.
            mark.LabelOppositeAxis = true;
        }
        if (drawn > 0)
            plot.ShowLegend(Alignment.UpperLeft);
        else
            plot.Title($"{title} — nothing reported");
        plot.SavePng(Path.Combine(folder, file), Width, Height);
        return (file, title);
    }

    /// <summary>A gauge per scrape, NaN where the collector did not answer: the chart leaves a gap there instead of a straight line.</summary>
    public static (double X, double Y)[] WithGaps(IEnumerable<CollectorScrape> scrapes, Func<CollectorScrape, double> gauge) =>
        scrapes.Select(s => (s.Seconds, s.Up ? gauge(s) : double.NaN)).ToArray();

    /// <summary>The stretches of <paramref name="points"/> between NaN values.</summary>
    public static IEnumerable<(double X, double Y)[]> Segments(IEnumerable<(double X, double Y)> points)
    {
        var segment = new List<(double X, double Y)>();
        foreach (var point in points)
        {
            if (!double.IsNaN(point.Y))
            {
                segment.Add(point);
                continue;
            }
            if (segment.Count > 0)
                yield return segment.ToArray();
            segment.Clear();
        }
        if (segment.Count > 0)
            yield return segment.ToArray();
    }

    /// <summary>Per-second rate of a counter; a counter that went down was reset by a restart, so its new value is the increase.</summary>
    private static (double X, double Y)[] Rate(CollectorScrape[] scrapes, Func<CollectorScrape, double> counter)
    {
        var points = new List<(double, double)>();
        CollectorScrape? previous = null;
        foreach (var scrape in scrapes)
        {
            if (!scrape.Up)
            {
                points.Add((scrape.Seconds, 0));
                previous = null;
                continue;
            }
            if (previous is not null && scrape.Seconds > previous.Seconds)
                points.Add((scrape.Seconds, Step(counter(previous), counter(scrape)) / (scrape.Seconds - previous.Seconds)));
            previous = scrape;
        }
        return points.ToArray();
    }

    /// <summary>How much a counter grew over a run, restarts included.</summary>
    private static double Increase(CollectorScrape[] scrapes, Func<CollectorScrape, double> counter)
    {
        double total = 0;
        double? previous = null;
        foreach (var scrape in scrapes.Where(s => s.Up))
        {
            var value = counter(scrape);
            total += previous is { } p ? Step(p, value) : 0;
            previous = value;
        }
        // The first scrape's value counts too: the collector may have accepted events before it.
        return total + scrapes.Where(s => s.Up).Select(counter).FirstOrDefault();
    }

    private static double Step(double previous, double current) => current >= previous ? current - previous : current;

    /// <summary>Adds series sampled at about the same seconds, bucketed to whole seconds.</summary>
    private static (double X, double Y)[] SumByTime(IEnumerable<(double X, double Y)[]> series) =>
        series.SelectMany(points => points).GroupBy(p => Math.Round(p.X)).OrderBy(g => g.Key).Select(g => (g.Key, g.Sum(p => p.Y))).ToArray();

    private static string DefaultIfBlank(this string text, string fallback) => text.Length == 0 ? fallback : text;
}
