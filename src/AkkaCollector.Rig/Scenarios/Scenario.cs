using System.Globalization;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace AkkaCollector.Rig.Scenarios;

/// <summary>A scenario file: the topology to start, the traffic to send and the steps to take, in order.</summary>
public sealed class Scenario
{
    public string Name { get; set; } = "";

    public string Description { get; set; } = "";

    /// <summary>Nominal length; <c>wait</c> steps given in percent are shares of it. <c>--duration</c> overrides it.</summary>
    public string Duration { get; set; } = "60s";

    public TopologySpec Topology { get; set; } = new();

    public TrafficSpec Traffic { get; set; } = new();

    public List<StepSpec> Steps { get; set; } = [];

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(HyphenatedNamingConvention.Instance)
        .Build();

    /// <summary>Reads and checks a scenario file.</summary>
    public static Scenario Load(string path)
    {
        var scenario = Yaml.Deserialize<Scenario>(File.ReadAllText(path)) ?? throw new FormatException($"{path} is empty.");
        if (string.IsNullOrWhiteSpace(scenario.Name))
            scenario.Name = System.IO.Path.GetFileNameWithoutExtension(path);
        scenario.Validate();
        return scenario;
    }

    /// <summary>Every collector's name (zone name + number: a1, a2, b1...) with its zone.</summary>
    public IEnumerable<(string Collector, string Zone)> Collectors() =>
        Topology.Zones.SelectMany(zone => Enumerable.Range(1, zone.Collectors).Select(i => ($"{zone.Name}{i}", zone.Name)));

    /// <summary>Resolves a <c>wait</c> length: <c>25%</c> of <paramref name="duration"/>, or an absolute <c>5s</c>.</summary>
    public static TimeSpan ResolveWait(string text, TimeSpan duration) =>
        text.EndsWith('%') ? duration * (double.Parse(text[..^1], CultureInfo.InvariantCulture) / 100) : CommandLine.ParseDuration(text);

    private void Validate()
    {
        if (Topology.Zones.Count == 0)
            throw new FormatException($"Scenario '{Name}' has no zones.");
        if (Topology.Spool.Provider is not ("sqlite" or "postgresql"))
            throw new FormatException($"Scenario '{Name}': unknown spool provider '{Topology.Spool.Provider}' (sqlite, postgresql).");
        var collectors = Collectors().Select(c => c.Collector).ToHashSet(StringComparer.Ordinal);
        var zones = Topology.Zones.Select(z => z.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var step in Steps)
        {
            var known = StepSpec.Kinds.Contains(step.Do) ? null : $"unknown step '{step.Do}' (known: {string.Join(", ", StepSpec.Kinds)})";
            var problem = known ?? step.Do switch
            {
                "wait" when step.For is null => "wait needs 'for' (e.g. 20% or 5s)",
                "isolate" or "restore" when step.Zone is null && step.Collector is null => $"{step.Do} needs a zone or a collector",
                "restart" or "stop" or "kill" or "start" when step.Collector is null => $"{step.Do} needs a collector",
                _ => null,
            };
            problem ??= step.Zone is { } zone && !zones.Contains(zone) ? $"no zone '{zone}'" : null;
            problem ??= step.Collector is { } collector && !collectors.Contains(collector) ? $"no collector '{collector}'" : null;
            if (step.Do is "isolate" or "restore")
            {
                problem ??= step.From.FirstOrDefault(d => d is not ("kafka" or "redis")) is { } dependency ? $"cannot isolate from '{dependency}' (kafka or redis)" : null;
                problem ??= step.From.Contains("redis") && !Topology.Redis ? "isolating from redis needs 'redis: true' in the topology" : null;
                // A broker advertises one address to all its clients, so Kafka is cut per zone (docs/rig.md, "Isolation").
                problem ??= step.From.Contains("kafka") && step.Zone is null ? "Kafka is cut per zone, not per collector (give the collector a zone of its own)" : null;
                problem ??= step.Mode is "blackhole" or "refuse" or "reset" ? null : $"unknown mode '{step.Mode}' (blackhole, refuse, reset)";
            }
            if (problem is not null)
                throw new FormatException($"Scenario '{Name}', step {Steps.IndexOf(step) + 1}: {problem}.");
        }
    }
}

/// <summary>Availability zones, their collectors, and the dependencies the runner starts.</summary>
public sealed class TopologySpec
{
    public List<ZoneSpec> Zones { get; set; } = [];

    /// <summary>Start a redis-server the collectors' lookups use (each collector through its own fault proxy).</summary>
    public bool Redis { get; set; }

    /// <summary>Geo-code client addresses with MaxMind's test City database, found beside the repository (../shared/geoip).</summary>
    public bool Geo { get; set; }

    public KafkaSpec Kafka { get; set; } = new();

    public SpoolSpec Spool { get; set; } = new();
}

/// <summary>Where the collectors spool.</summary>
public sealed class SpoolSpec
{
    /// <summary>
    /// sqlite: a spool folder per collector (the default); postgresql: one PostgreSQL server for the run and one spool
    /// database per zone, shared by its collectors (each under its own Collector:InstanceId, its name), which take over
    /// the spools of a collector that is gone.
    /// </summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>postgresql: Spool:TakeoverAfter of every collector.</summary>
    public string TakeoverAfter { get; set; } = "30s";
}

/// <summary>One availability zone.</summary>
public sealed class ZoneSpec
{
    public string Name { get; set; } = "";

    public int Collectors { get; set; } = 1;
}

/// <summary>The Kafka mock cluster started for each zone.</summary>
public sealed class KafkaSpec
{
    public int Brokers { get; set; } = 1;

    /// <summary>Many partitions: the mock keeps only the newest 5 MiB per partition.</summary>
    public int Partitions { get; set; } = 32;

    public string Topic { get; set; } = "events";
}

/// <summary>The traffic a <c>start-traffic</c> step sends through HAProxy, in front of every collector of every zone.</summary>
public sealed class TrafficSpec
{
    /// <summary>Events per second.</summary>
    public double Rate { get; set; } = 400;

    public int Concurrency { get; set; } = 8;

    public int Batch { get; set; } = 10;

    public string Timeout { get; set; } = "10s";

    /// <summary>Distinct write keys (apps); with Redis, each is registered in the app registry before the run.</summary>
    public int WriteKeys { get; set; } = 50;
}

/// <summary>One step. <see cref="Do"/> names it; the other fields are its arguments.</summary>
public sealed class StepSpec
{
    /// <summary>Every step a scenario can take.</summary>
    public static readonly string[] Kinds =
        ["start-traffic", "stop-traffic", "wait", "isolate", "restore", "kafka-down", "kafka-up", "restart", "stop", "kill", "start", "drain", "verify"];

    /// <summary>Steps an operator confirms first with <c>--confirm</c>, as the story's script asked before changing a network ACL.</summary>
    public static readonly string[] Risky = ["isolate", "restore", "kafka-down", "kafka-up", "restart", "stop", "kill"];

    public string Do { get; set; } = "";

    /// <summary>wait: how long (<c>20%</c> of the duration, or <c>5s</c>); drain: the longest it may take.</summary>
    public string? For { get; set; }

    public string? Zone { get; set; }

    public string? Collector { get; set; }

    /// <summary>isolate: which dependencies (kafka, redis).</summary>
    public List<string> From { get; set; } = ["kafka", "redis"];

    /// <summary>isolate: blackhole (accept, never answer: an ACL drop), refuse, or reset.</summary>
    public string Mode { get; set; } = "blackhole";

    /// <summary>One line for logs, the plan and the report.</summary>
    public string Describe() => Do switch
    {
        "wait" => $"wait {For}",
        "isolate" => $"isolate {Zone ?? Collector} from {string.Join("+", From)} ({Mode})",
        "restore" => $"restore {Zone ?? Collector}",
        "kafka-down" or "kafka-up" => $"{Do} {Zone ?? "all zones"}",
        "restart" => $"restart {Collector} (SIGTERM)",
        "stop" => $"stop {Collector} (SIGTERM, not started again)",
        "kill" => $"kill -9 {Collector}",
        "start" => $"start {Collector}",
        "drain" => $"drain (up to {For ?? "60s"})",
        _ => Do,
    };
}
