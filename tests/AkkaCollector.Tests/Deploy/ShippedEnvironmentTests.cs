using System.Text.Json;
using System.Text.RegularExpressions;
using AkkaCollector.Testing.Processes;
using AkkaCollector.Testing.Repository;

namespace AkkaCollector.Tests.Deploy;

/// <summary>
/// glibc reads MALLOC_ARENA_MAX and the runtime reads DOTNET_GCGen1MaxBudget only as a process starts, so neither is in
/// the code: every shipped way of starting the collector sets both, with the values the rig and the tests start it with
/// (<see cref="CollectorProcess.ShippedEnvironment"/>; docs/deploy.md, "Memory settings read at start").
/// </summary>
public sealed partial class ShippedEnvironmentTests
{
    private static readonly string Root = RepositoryPaths.Root;
    private static readonly IReadOnlyList<KeyValuePair<string, string>> Expected = CollectorProcess.ShippedEnvironment;

    [Fact]
    public void Should_set_the_shipped_environment_in_the_docker_image_that_compose_and_kubernetes_run()
    {
        // Instructions continue over lines ending in a backslash.
        var instructions = File.ReadAllText(Path.Combine(Root, "docker", "Dockerfile")).Replace("\\\n", " ").Split('\n');
        var assignments = Assignments(instructions, "ENV ").ToList();

        Assert.All(Expected, pair => Assert.Contains(pair, assignments));
    }

    [Fact]
    public void Should_set_the_shipped_environment_in_the_systemd_unit()
    {
        var assignments = Assignments(File.ReadAllLines(Path.Combine(Root, "deploy", "systemd", "akka-collector.service")), "Environment=").ToList();

        Assert.All(Expected, pair => Assert.Contains(pair, assignments));
    }

    [Fact]
    public async Task Should_set_the_shipped_environment_in_the_pm2_process_file_as_node_reads_it()
    {
        var file = Path.Combine(Root, "deploy", "pm2", "ecosystem.config.js");
        using var node = ChildProcess.Start("node", ["-e", $"console.log(JSON.stringify(require({JsonSerializer.Serialize(file)}).apps.map(a => a.env)))"]);
        node.CloseStandardInput();

        var exitCode = await node.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, $"node could not load {file} (exit {exitCode}):\n{node.Output}");
        var apps = JsonSerializer.Deserialize<Dictionary<string, string>[]>(Assert.Single(node.Lines, line => line.Text.StartsWith('[')).Text)!;
        Assert.All(apps, env => Assert.All(Expected, pair => Assert.Equal(pair.Value, env.GetValueOrDefault(pair.Key))));
    }

    [Fact]
    public void Should_set_the_shipped_environment_in_every_profile_dotnet_run_starts()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "src", "AkkaCollector", "Properties", "launchSettings.json")));
        var profiles = settings.RootElement.GetProperty("profiles").EnumerateObject().ToList();

        Assert.NotEmpty(profiles);
        Assert.All(profiles, profile => Assert.All(Expected, pair =>
            Assert.Equal(pair.Value, profile.Value.GetProperty("environmentVariables").GetProperty(pair.Key).GetString())));
    }

    /// <summary>The NAME=VALUE pairs, separated by spaces, of every line that starts with <paramref name="instruction"/> (Dockerfile ENV, systemd Environment=).</summary>
    private static IEnumerable<KeyValuePair<string, string>> Assignments(IEnumerable<string> lines, string instruction) =>
        lines.Where(line => line.StartsWith(instruction, StringComparison.Ordinal))
            .SelectMany(line => line[instruction.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => NameEqualsValue().Match(pair))
            .Select(match => KeyValuePair.Create(match.Groups["name"].Value, match.Groups["value"].Value.Trim('"')));

    [GeneratedRegex("^(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>.*)$")]
    private static partial Regex NameEqualsValue();
}
