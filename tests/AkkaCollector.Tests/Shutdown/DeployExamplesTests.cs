using System.Text.RegularExpressions;
using AkkaCollector.Shutdown;
using AkkaCollector.Testing.Processes;
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
    public async Task Should_give_systemd_a_stop_timeout_equal_to_the_hocon_kill_window()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot, "deploy", "systemd", "akka-collector.service"));

        var setting = Assert.Single(lines, line => line.StartsWith("TimeoutStopSec=", StringComparison.Ordinal));
        Assert.Equal(ShippedKillWindow, await SystemdTimeSpanAsync(setting["TimeoutStopSec=".Length..]));
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

    /// <summary>The time span as systemd itself reads it (systemd.time(7)), from <c>systemd-analyze timespan</c>.</summary>
    private static async Task<TimeSpan> SystemdTimeSpanAsync(string value)
    {
        using var analyze = ChildProcess.Start("systemd-analyze", ["timespan", value]);
        var exitCode = await analyze.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"systemd-analyze does not read '{value}' as a time span (exit {exitCode}):\n{analyze.Output}");
        var micros = Assert.Single(analyze.Lines, line => line.Text.TrimStart().StartsWith("μs:", StringComparison.Ordinal)).Text;
        return TimeSpan.FromMicroseconds(long.Parse(micros.TrimStart()["μs:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture));
    }

    private static YamlNode Node(YamlNode node, params string[] path) =>
        path.Aggregate(node, (current, key) => ((YamlMappingNode)current).Children[new YamlScalarNode(key)]);

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)Node(node, key)).Value!;

    [GeneratedRegex(@"kill_timeout:\s*(?<ms>\d+)")]
    private static partial Regex Pm2KillTimeout();
}
