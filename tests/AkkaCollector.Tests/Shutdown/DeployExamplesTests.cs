using System.Text.RegularExpressions;
using AkkaCollector.Shutdown;
using AkkaCollector.Testing.Repository;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace AkkaCollector.Tests.Shutdown;

/// <summary>The process-manager examples under deploy/ must give the collector exactly the kill window its HOCON budgets for.</summary>
public sealed partial class DeployExamplesTests
{
    private static readonly string RepositoryRoot = RepositoryPaths.Root;

    private static readonly TimeSpan ShippedKillWindow =
        ShutdownSettings.Load(new ConfigurationBuilder().Build(), Path.Combine(RepositoryRoot, "hocon", "shutdown.conf")).Plan.KillWindow;

    [Fact]
    public void Should_give_pm2_a_kill_timeout_equal_to_the_hocon_kill_window()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot, "deploy", "pm2", "ecosystem.config.js"));

        var match = Assert.Single(Pm2KillTimeout().Matches(text));
        Assert.Equal(ShippedKillWindow, TimeSpan.FromMilliseconds(int.Parse(match.Groups["ms"].Value)));
    }

    [Fact]
    public void Should_give_systemd_a_stop_timeout_equal_to_the_hocon_kill_window()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot, "deploy", "systemd", "akka-collector.service"));

        var setting = Assert.Single(lines, line => line.StartsWith("TimeoutStopSec=", StringComparison.Ordinal));
        Assert.Equal(ShippedKillWindow, SystemdTimeSpan(setting["TimeoutStopSec=".Length..]));
    }

    [Fact]
    public void Should_give_kubernetes_a_grace_period_equal_to_the_prestop_sleep_plus_the_hocon_kill_window()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(RepositoryRoot, "deploy", "kubernetes", "collector.yaml")))
            yaml.Load(reader);
        var deployment = Assert.Single(yaml.Documents, d => Scalar(d.RootNode, "kind") == "Deployment").RootNode;
        var pod = Node(deployment, "spec", "template", "spec");
        var container = Assert.Single(((YamlSequenceNode)Node(pod, "containers")).Children);

        var grace = TimeSpan.FromSeconds(int.Parse(Scalar(pod, "terminationGracePeriodSeconds")));
        var preStopSleep = TimeSpan.FromSeconds(int.Parse(Scalar(Node(container, "lifecycle", "preStop", "sleep"), "seconds")));

        Assert.Equal(ShippedKillWindow, grace - preStopSleep);
    }

    [Theory]
    [InlineData("10", 10_000)]
    [InlineData("10s", 10_000)]
    [InlineData("1min 30s", 90_000)]
    [InlineData("500ms", 500)]
    public void Should_read_systemd_time_spans_the_way_systemd_does(string value, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), SystemdTimeSpan(value));
    }

    // systemd.time(7): a bare number is seconds; otherwise a sum of number+unit parts.
    private static TimeSpan SystemdTimeSpan(string value)
    {
        var trimmed = value.Trim();
        if (int.TryParse(trimmed, out var seconds))
            return TimeSpan.FromSeconds(seconds);
        var parts = SystemdTimePart().Matches(trimmed);
        Assert.Equal(trimmed.Replace(" ", ""), string.Concat(parts.Select(p => p.Value.Replace(" ", ""))));
        return parts.Aggregate(TimeSpan.Zero, (total, part) => total + (part.Groups["unit"].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(int.Parse(part.Groups["n"].Value)),
            "s" or "sec" => TimeSpan.FromSeconds(int.Parse(part.Groups["n"].Value)),
            "min" or "m" => TimeSpan.FromMinutes(int.Parse(part.Groups["n"].Value)),
            var unit => throw new FormatException($"systemd time unit {unit} not handled here"),
        }));
    }

    private static YamlNode Node(YamlNode node, params string[] path) =>
        path.Aggregate(node, (current, key) => ((YamlMappingNode)current).Children[new YamlScalarNode(key)]);

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)Node(node, key)).Value!;

    [GeneratedRegex(@"kill_timeout:\s*(?<ms>\d+)")]
    private static partial Regex Pm2KillTimeout();

    [GeneratedRegex(@"(?<n>\d+)\s*(?<unit>ms|sec|s|min|m)")]
    private static partial Regex SystemdTimePart();
}
