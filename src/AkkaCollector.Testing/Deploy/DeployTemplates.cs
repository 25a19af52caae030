using System.Text;
using System.Text.RegularExpressions;
using AkkaCollector.Testing.Repository;

namespace AkkaCollector.Testing.Deploy;

/// <summary>A collector as the load balancer and Prometheus address it: its name, its zone, and host:port.</summary>
public sealed record BalancedCollector(string Name, string Zone, string Address);

/// <summary>
/// The one source of the load balancer's and the monitoring's configuration: docker/haproxy/haproxy.cfg.template and
/// docker/prometheus/prometheus.yml.template, rendered for compose (the checked-in haproxy.cfg and prometheus.yml,
/// which a test keeps equal to <see cref="ComposeHaproxy"/> and <see cref="ComposePrometheus"/>) and for the rig
/// (loopback addresses of the collectors it started). Only the addresses differ; every setting is the template's.
/// </summary>
public static partial class DeployTemplates
{
    /// <summary>The collectors of docker/compose.yaml, two per zone, as its services name them.</summary>
    public static readonly IReadOnlyList<BalancedCollector> ComposeCollectors =
    [
        new("collector-a1", "a", "collector-a1:8080"),
        new("collector-a2", "a", "collector-a2:8080"),
        new("collector-b1", "b", "collector-b1:8080"),
        new("collector-b2", "b", "collector-b2:8080"),
    ];

    private static string Docker => Path.Combine(RepositoryPaths.Root, "docker");

    /// <summary>docker/haproxy/haproxy.cfg.template.</summary>
    public static string HaproxyTemplate => Path.Combine(Docker, "haproxy", "haproxy.cfg.template");

    /// <summary>docker/prometheus/prometheus.yml.template.</summary>
    public static string PrometheusTemplate => Path.Combine(Docker, "prometheus", "prometheus.yml.template");

    /// <summary>docker/prometheus/alerts.yml, the alert rules; prometheus.yml names it relative to its own folder.</summary>
    public static string AlertRules => Path.Combine(Docker, "prometheus", "alerts.yml");

    /// <summary>haproxy.cfg as compose mounts it.</summary>
    public static string ComposeHaproxy() => Haproxy(":80", ":8404", ComposeCollectors);

    /// <summary>prometheus.yml as compose mounts it.</summary>
    public static string ComposePrometheus() => Prometheus(ComposeCollectors, "haproxy:8404");

    /// <summary>haproxy.cfg: producers on <paramref name="producersBind"/>, stats and /metrics on <paramref name="statsBind"/>, one server per collector, by zone.</summary>
    public static string Haproxy(string producersBind, string statsBind, IEnumerable<BalancedCollector> collectors) =>
        Render(HaproxyTemplate, new Dictionary<string, string>
        {
            ["producers_bind"] = producersBind,
            ["stats_bind"] = statsBind,
            ["servers"] = ByZone(collectors, (zone, members) =>
                $"  # zone {zone}\n" + string.Concat(members.Select(c => $"  server {c.Name} {c.Address}\n"))),
        });

    /// <summary>prometheus.yml: every collector (labelled with its zone) and HAProxy's exporter at <paramref name="haproxyTarget"/>.</summary>
    public static string Prometheus(IEnumerable<BalancedCollector> collectors, string haproxyTarget) =>
        Render(PrometheusTemplate, new Dictionary<string, string>
        {
            ["collector_targets"] = ByZone(collectors, (zone, members) =>
                $"      - targets: [{string.Join(", ", members.Select(c => $"\"{c.Address}\""))}]\n        labels: {{ zone: {zone} }}\n"),
            ["haproxy_target"] = haproxyTarget,
        });

    private static string ByZone(IEnumerable<BalancedCollector> collectors, Func<string, IEnumerable<BalancedCollector>, string> zone) =>
        string.Concat(collectors.GroupBy(c => c.Zone).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => zone(g.Key, g))).TrimEnd('\n');

    /// <summary>Replaces every <c>{{name}}</c> of the template with its value; a placeholder without a value is an error, not a blank.</summary>
    private static string Render(string templatePath, IReadOnlyDictionary<string, string> values)
    {
        var rendered = Placeholder().Replace(File.ReadAllText(templatePath, Encoding.UTF8), match =>
            values.TryGetValue(match.Groups[1].Value, out var value)
                ? value
                : throw new InvalidOperationException($"{templatePath}: no value for {match.Value}"));
        return rendered;
    }

    [GeneratedRegex(@"\{\{([a-z_]+)\}\}")]
    private static partial Regex Placeholder();
}
