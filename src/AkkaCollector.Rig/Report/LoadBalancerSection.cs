using System.Globalization;
using System.Text;
using AkkaCollector.Rig.LoadBalancer;
using AkkaCollector.Testing.Deploy;

namespace AkkaCollector.Rig.Report;

/// <summary>
/// The report's load-balancer part: the lb line's figures with HAProxy's retries, the alerts Prometheus had pending
/// or firing, every counted mark-down, and a chart of each collector's state in HAProxy over time.
/// </summary>
public static class LoadBalancerSection
{
    /// <summary>Writes the section; nothing when the run stopped before HAProxy started.</summary>
    public static void Write(StringBuilder md, LoadBalancerView? view)
    {
        if (view is null)
            return;
        var f = view.Figures;
        md.AppendLine("## Load balancer (HAProxy's stats) and alerts (Prometheus)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"`{f.Line}`");
        md.AppendLine();
        md.AppendLine("| what | value |\n| --- | ---: |");
        foreach (var (what, value) in new (string, long)[]
                 {
                     ("answers 5xx to producers", f.ServerErrors), ("collectors marked down while running and not shutting down", f.MarkedDown),
                     ("requests without an answer", f.NotAnswered), ("requests HAProxy retried", f.Retries), ("of those, sent to another collector", f.Redispatches),
                 })
            md.AppendLine(CultureInfo.InvariantCulture, $"| {what} | {value} |");
        md.AppendLine();
        if (f.MarkedDownAt.Count > 0)
            md.AppendLine(CultureInfo.InvariantCulture, $"Marked down: {string.Join(", ", f.MarkedDownAt)}.\n");
        if (view.Alerts is null)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"Alerts: unknown, Prometheus did not answer ({view.AlertsUnknownBecause}).\n");
            return;
        }
        // Fired pages someone; pending is a rule whose condition held for less than its `for`, which pages nobody.
        md.AppendLine(CultureInfo.InvariantCulture, $"Alerts that fired (docker/prometheus/alerts.yml): **{Listed(view, "firing")}**.\n");
        md.AppendLine(CultureInfo.InvariantCulture, $"Pending but never fired (their condition did not last their `for`): {Listed(view, "pending")}.\n");
    }

    /// <summary>The alerts in <paramref name="state"/>, each with the collectors (or other instances) it was about.</summary>
    private static string Listed(LoadBalancerView view, string state)
    {
        // HAProxy's alerts name the collector as its server; the collectors' own, by the address Prometheus scrapes.
        string About(AlertSeen alert) =>
            alert.Labels.TryGetValue("server", out var server) ? server
            : alert.Labels.TryGetValue("instance", out var instance) ? view.Collectors.GetValueOrDefault(instance, instance)
            : "all";
        var listed = view.Alerts!.Where(a => a.State == state)
            .GroupBy(a => a.Name, StringComparer.Ordinal)
            .Select(g => $"{g.Key} ({string.Join(", ", g.Select(About).Distinct().Order(StringComparer.Ordinal))})")
            .ToArray();
        return listed.Length == 0 ? "none" : string.Join("; ", listed);
    }

    /// <summary>
    /// Each collector's state in HAProxy per poll: 1 in rotation, 0.67 in rotation but failing checks, 0.33 out but
    /// passing checks, 0 out (DOWN, MAINT); lines lifted 0.04 each so that none hides another.
    /// </summary>
    public static (string Name, (double X, double Y)[] Points)[] StateSeries(LoadBalancerView? view) =>
        view is null
            ? []
            : view.Samples.GroupBy(s => s.Server).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select((server, index) => (server.Key, server.OrderBy(s => s.Seconds).Select(s => (s.Seconds, Level(s.Status) + index * 0.04)).ToArray()))
                .ToArray();

    private static double Level(string status) => status switch
    {
        "UP" => 1,
        _ when status.StartsWith("UP ", StringComparison.Ordinal) => 0.67,
        _ when status.StartsWith("DOWN ", StringComparison.Ordinal) => 0.33,
        _ => 0,
    };
}
