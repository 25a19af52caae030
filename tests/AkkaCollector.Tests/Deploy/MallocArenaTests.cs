using System.Text.Json;
using System.Text.RegularExpressions;
using AkkaCollector.Testing.Processes;
using AkkaCollector.Testing.Repository;

namespace AkkaCollector.Tests.Deploy;

/// <summary>
/// glibc reads MALLOC_ARENA_MAX only as a process starts, so the cap on its malloc arenas is not in the code: every
/// shipped way of starting the collector sets it, with the value the rig and the tests start it with
/// (<see cref="CollectorProcess.ShippedMallocArenas"/>; docs/deploy.md, "Native memory").
/// </summary>
public sealed partial class MallocArenaTests
{
    private static readonly string Root = RepositoryPaths.Root;
    private static readonly KeyValuePair<string, string> Expected = CollectorProcess.ShippedMallocArenas;

    [Fact]
    public void Should_cap_malloc_arenas_in_the_docker_image_that_compose_and_kubernetes_run()
    {
        // Instructions continue over lines ending in a backslash.
        var instructions = File.ReadAllText(Path.Combine(Root, "docker", "Dockerfile")).Replace("\\\n", " ").Split('\n');

        Assert.Contains(Expected, Assignments(instructions, "ENV "));
    }

    [Fact]
    public void Should_cap_malloc_arenas_in_the_systemd_unit()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "deploy", "systemd", "akka-collector.service"));

        Assert.Contains(Expected, Assignments(lines, "Environment="));
    }

    [Fact]
    public async Task Should_cap_malloc_arenas_in_the_pm2_process_file_as_node_reads_it()
    {
        var file = Path.Combine(Root, "deploy", "pm2", "ecosystem.config.js");
        using var node = ChildProcess.Start("node", ["-e", $"console.log(JSON.stringify(require({JsonSerializer.Serialize(file)}).apps.map(a => a.env)))"]);
        node.CloseStandardInput();

        var exitCode = await node.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, $"node could not load {file} (exit {exitCode}):\n{node.Output}");
        var apps = JsonSerializer.Deserialize<Dictionary<string, string>[]>(Assert.Single(node.Lines, line => line.Text.StartsWith('[')).Text)!;
        Assert.All(apps, env => Assert.Equal(Expected.Value, env.GetValueOrDefault(Expected.Key)));
    }

    [Fact]
    public void Should_cap_malloc_arenas_in_every_profile_dotnet_run_starts()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "src", "AkkaCollector", "Properties", "launchSettings.json")));
        var profiles = settings.RootElement.GetProperty("profiles").EnumerateObject().ToList();

        Assert.NotEmpty(profiles);
        Assert.All(profiles, profile =>
            Assert.Equal(Expected.Value, profile.Value.GetProperty("environmentVariables").GetProperty(Expected.Key).GetString()));
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
