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
        ShutdownSettings.Load(new ConfigurationBuilder().Build(), hoconPath: Path.Combine(RepositoryRoot, "hocon", "shutdown.conf")).Plan.KillWindow;

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

    public static readonly TheoryData<string> KubernetesFiles = new(
        Directory.GetFiles(Path.Combine(RepositoryRoot, "deploy", "kubernetes"), "*.yaml").Select(Path.GetFileName).OfType<string>().Order());

    [Theory]
    [MemberData(nameof(KubernetesFiles))]
    public void Should_give_kubernetes_a_grace_period_equal_to_the_prestop_sleep_plus_the_hocon_kill_window(string file)
    {
        var pod = Node(Workload(file), "spec", "template", "spec");
        var container = Assert.Single(((YamlSequenceNode)Node(pod, "containers")).Children);

        var grace = TimeSpan.FromSeconds(int.Parse(Scalar(pod, "terminationGracePeriodSeconds")));
        var preStopSleep = TimeSpan.FromSeconds(int.Parse(Scalar(Node(container, "lifecycle", "preStop", "sleep"), "seconds")));

        Assert.Equal(ShippedKillWindow, grace - preStopSleep);
    }

    [Theory]
    [MemberData(nameof(KubernetesFiles))]
    public void Should_keep_a_kubernetes_spool_beyond_its_pod_and_drain_one_pod_at_a_time(string file)
    {
        var documents = Load(file);
        var workload = Workload(file);
        var labels = (YamlMappingNode)Node(workload, "spec", "selector", "matchLabels");
        var budget = Assert.Single(documents, d => Scalar(d.RootNode, "kind") == "PodDisruptionBudget").RootNode;
        var env = ((YamlSequenceNode)Node(Assert.Single(((YamlSequenceNode)Node(workload, "spec", "template", "spec", "containers")).Children), "env"))
            .Children.ToDictionary(e => Scalar(e, "name"), e => e);

        Assert.Equal("StatefulSet", Scalar(workload, "kind"));
        Assert.Equal("1", Scalar(Node(budget, "spec"), "maxUnavailable"));
        Assert.Equal(labels, Node(budget, "spec", "selector", "matchLabels"));
        // Either the spool is on a volume of its own, or it is shared in PostgreSQL, where the others take it over.
        if (env.ContainsKey("Spool__Provider"))
            Assert.Equal("postgresql", Scalar(env["Spool__Provider"], "value"));
        else
            Assert.Equal("spool", Scalar(Assert.Single(((YamlSequenceNode)Node(workload, "spec", "volumeClaimTemplates")).Children), "metadata", "name"));
    }

    private static IList<YamlDocument> Load(string file)
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(RepositoryRoot, "deploy", "kubernetes", file)))
            yaml.Load(reader);
        return yaml.Documents;
    }

    private static YamlNode Workload(string file) =>
        Assert.Single(Load(file), d => Scalar(d.RootNode, "kind") is "Deployment" or "StatefulSet").RootNode;

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

    private static string Scalar(YamlNode node, params string[] path) => ((YamlScalarNode)Node(node, path)).Value!;

    [GeneratedRegex(@"kill_timeout:\s*(?<ms>\d+)")]
    private static partial Regex Pm2KillTimeout();
}
