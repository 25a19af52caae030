using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using AkkaCollector.Testing.Deploy;
using AkkaCollector.Testing.Repository;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace AkkaCollector.Tests.Deploy;

/// <summary>
/// docker/ agrees with the collector it deploys: the compose file, HAProxy, Prometheus, the Dockerfile and the
/// Grafana dashboard against the production profile (hocon/production.conf, profiles/production.json) and the code.
/// </summary>
public sealed class DeployFilesTests
{
    private const string Profile = "production";
    private const string ReadinessPath = "/health/ready";
    private const string KillWindowKey = "collector.shutdown.kill-window";

    private static readonly string Root = RepositoryPaths.Root;
    private static readonly string Docker = Path.Combine(Root, "docker");
    private static readonly Dictionary<object, object> Services = Map(LoadCompose()["services"]);
    private static readonly string[] Collectors = Services.Keys.Cast<string>().Where(name => name.StartsWith("collector-", StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task Should_be_a_compose_file_that_docker_compose_accepts()
    {
        // No Docker engine runs here, but Debian's docker-compose parses and validates the file without one
        // (the test command installs it).
        Assert.True(File.Exists("/usr/bin/docker-compose"), "docker-compose is not installed: apt-get install -y docker-compose (bash .ci/run does)");
        using var compose = AkkaCollector.Testing.Processes.ChildProcess.Start("docker-compose", ["-f", Path.Combine(Docker, "compose.yaml"), "config", "-q"]);
        compose.CloseStandardInput();

        var exitCode = await compose.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, $"docker-compose config exited {exitCode}:\n{compose.Output}");
    }

    [Fact]
    public void Should_stop_every_collector_with_a_grace_period_equal_to_the_production_kill_window()
    {
        var hocon = CollectorHocon.LoadProfile(Profile).WithFallback(CollectorHocon.Load("shutdown.conf", "lookups.conf"));
        Assert.True(hocon.HasPath(KillWindowKey), $"{KillWindowKey} is not set by hocon/{Profile}.conf nor the other HOCON files");
        var killWindow = hocon.GetTimeSpan(KillWindowKey);

        Assert.All(Collectors, name =>
        {
            Assert.Equal(killWindow, ComposeDuration(Text(Map(Services[name])["stop_grace_period"])));
            Assert.False(Environment(name).ContainsKey("Shutdown__KillWindow"), $"{name} overrides the kill window; keep it in hocon/{Profile}.conf");
        });
    }

    [Fact]
    public void Should_run_two_collectors_in_each_of_two_zones_on_the_production_profile()
    {
        var zones = Collectors.GroupBy(name => Text(Map(Map(Services[name])["labels"])["zone"])).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(new Dictionary<string, int> { ["a"] = 2, ["b"] = 2 }, zones);
        Assert.All(Collectors, name => Assert.Equal(Profile, Environment(name)[CollectorProfile.Setting.Replace(":", "__")]));
    }

    [Fact]
    public void Should_balance_scrape_and_health_check_every_collector_on_the_port_it_listens_on()
    {
        var haproxy = File.ReadAllText(Path.Combine(Docker, "haproxy", "haproxy.cfg"));
        var prometheus = File.ReadAllText(Path.Combine(Docker, "prometheus", "prometheus.yml"));
        var dockerfile = File.ReadAllText(Path.Combine(Docker, "Dockerfile"));

        Assert.All(Collectors, name =>
        {
            var port = new Uri(Environment(name)["ASPNETCORE_URLS"]).Port;
            Assert.Matches($@"(?m)^\s*server {name} {name}:{port}\s*$", haproxy);
            Assert.Contains($"\"{name}:{port}\"", prometheus);
            Assert.Contains($"EXPOSE {port}", dockerfile);
            Assert.Contains($"/dev/tcp/127.0.0.1/{port}", dockerfile);
        });
    }

    [Fact]
    public void Should_ship_haproxy_cfg_and_prometheus_yml_as_the_renderings_of_their_templates_for_compose()
    {
        // The rig runs the same templates: a setting changed in the checked-in file alone would be tested by nothing.
        Assert.Equal(DeployTemplates.ComposeHaproxy(), File.ReadAllText(Path.Combine(Docker, "haproxy", "haproxy.cfg")));
        Assert.Equal(DeployTemplates.ComposePrometheus(), File.ReadAllText(Path.Combine(Docker, "prometheus", "prometheus.yml")));
    }

    [Fact]
    public void Should_render_the_deploy_files_for_the_collectors_compose_runs_in_their_zones()
    {
        var composed = Collectors.Select(name => (name, Text(Map(Map(Services[name])["labels"])["zone"]), $"{name}:{new Uri(Environment(name)["ASPNETCORE_URLS"]).Port}"));

        Assert.Equal(composed.Order(), DeployTemplates.ComposeCollectors.Select(c => (c.Name, c.Zone, c.Address)).Order());
    }

    [Fact]
    public void Should_mount_the_rendered_files_and_the_alert_rules_in_compose()
    {
        string[] Volumes(string service) => ((List<object>)Map(Services[service])["volumes"]).Cast<string>().ToArray();

        Assert.Contains("./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro", Volumes("haproxy"));
        Assert.Contains("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro", Volumes("prometheus"));
        Assert.Contains("./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro", Volumes("prometheus"));
        Assert.Contains("  - alerts.yml", File.ReadAllText(Path.Combine(Docker, "prometheus", "prometheus.yml")));
    }

    [Fact]
    public void Should_alert_on_metric_names_the_collector_exports()
    {
        var exported = typeof(CollectorMetrics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => ((Prometheus.Collector)field.GetValue(null)!).Name).ToHashSet();
        var alerted = Regex.Matches(File.ReadAllText(DeployTemplates.AlertRules), @"collector_[a-z_]+")
            .Select(m => m.Value).ToHashSet();

        Assert.NotEmpty(alerted);
        Assert.Subset(exported, alerted);
    }

    [Fact]
    public void Should_take_a_collector_out_of_the_load_balancer_when_its_readiness_answers_503()
    {
        var haproxy = File.ReadAllText(Path.Combine(Docker, "haproxy", "haproxy.cfg"));
        var dockerfile = File.ReadAllText(Path.Combine(Docker, "Dockerfile"));

        Assert.Matches($@"(?m)^\s*option httpchk GET {ReadinessPath}\s*$", haproxy);
        Assert.Matches(@"(?m)^\s*http-check expect status 200\s*$", haproxy);
        Assert.Contains($"GET {ReadinessPath} HTTP/1.0", dockerfile);

        // The load balancer must notice a draining collector within the drain delay.
        var check = Regex.Match(haproxy, @"inter (\d+)s fall (\d+)");
        var detection = TimeSpan.FromSeconds(int.Parse(check.Groups[1].Value, CultureInfo.InvariantCulture) * int.Parse(check.Groups[2].Value, CultureInfo.InvariantCulture));
        var drainDelay = CollectorHocon.LoadProfile(Profile).GetTimeSpan("collector.shutdown.drain-delay");
        Assert.True(detection < drainDelay, $"HAProxy needs {detection} to see a 503, longer than drain-delay {drainDelay}");
    }

    [Fact]
    public void Should_bootstrap_every_collector_from_all_three_kraft_brokers()
    {
        var brokers = Services.Keys.Cast<string>().Where(name => Regex.IsMatch(name, @"^kafka-\d+$")).ToArray();
        Assert.Equal(3, brokers.Length);
        Assert.All(brokers, name => Assert.Equal("broker,controller", Environment(name)["KAFKA_PROCESS_ROLES"]));
        var advertised = brokers.Select(name => Environment(name)["KAFKA_ADVERTISED_LISTENERS"].Replace("PLAINTEXT://", "")).Order().ToArray();

        Assert.All(Collectors, name => Assert.Equal(advertised, Environment(name)["Kafka__BootstrapServers"].Split(',').Order().ToArray()));
    }

    [Fact]
    public void Should_chart_the_outage_signals_with_metric_names_the_collector_exports()
    {
        var exported = typeof(CollectorMetrics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => ((Prometheus.Collector)field.GetValue(null)!).Name).ToHashSet();
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Docker, "grafana", "dashboards", "collector.json")));
        var charted = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .SelectMany(target => Regex.Matches(target.GetProperty("expr").GetString()!, @"collector_[a-z_]+").Select(m => m.Value))
            .ToHashSet();

        Assert.Subset(exported, charted);
        Assert.Superset(new HashSet<string>
        {
            CollectorMetrics.EventsAccepted.Name, CollectorMetrics.HttpRequests.Name, CollectorMetrics.SpoolBacklogEvents.Name,
            CollectorMetrics.EventsDelivered.Name, CollectorMetrics.BreakerState.Name, CollectorMetrics.Ready.Name,
        }, charted);
    }

    [Fact]
    public void Should_accept_every_setting_of_the_production_profile()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(Root, "src", "AkkaCollector", "profiles", $"{Profile}.json")).Build();
        var services = new ServiceCollection();
        services.AddValidatedOptions<SpoolOptions>(configuration, SpoolOptions.Section);
        services.AddSingleton<IValidateOptions<SpoolOptions>, SpoolOptionsValidator>();
        services.AddValidatedOptions<KafkaOptions>(configuration, KafkaOptions.Section);
        using var provider = services.BuildServiceProvider();

        var spool = provider.GetRequiredService<IOptions<SpoolOptions>>().Value;
        var kafka = provider.GetRequiredService<IOptions<KafkaOptions>>().Value;

        // The profile really is read: each differs from the class default.
        Assert.NotEqual(new SpoolOptions().Partitions, spool.Partitions);
        Assert.NotEqual(new KafkaOptions().MessageTimeoutMs, kafka.MessageTimeoutMs);
    }

    private static Dictionary<object, object> LoadCompose()
    {
        using var reader = new StreamReader(Path.Combine(Docker, "compose.yaml"));
        return new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
    }

    private static Dictionary<string, string> Environment(string service) =>
        Map(Map(Services[service])["environment"]).ToDictionary(kv => Text(kv.Key), kv => Text(kv.Value));

    private static Dictionary<object, object> Map(object node) => Assert.IsType<Dictionary<object, object>>(node);

    private static string Text(object node) => Assert.IsType<string>(node);

    /// <summary>Compose durations as this file writes them: a number and s, m or ms.</summary>
    private static TimeSpan ComposeDuration(string value)
    {
        var match = Regex.Match(value, @"^(\d+)(ms|s|m)$");
        Assert.True(match.Success, $"unexpected compose duration '{value}'");
        var amount = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "ms" => TimeSpan.FromMilliseconds(amount), "s" => TimeSpan.FromSeconds(amount), _ => TimeSpan.FromMinutes(amount) };
    }
}
