using AkkaCollector.Rig.Verification;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>Shipped scenarios run end to end through the rig's command line, every process real.</summary>
public sealed class ScenarioRunTests : IDisposable
{
    // A whole topology (Kafka mocks, redis-server, collectors) starts on a 2-core machine shared with other builds.
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"rig-scenario-{Guid.NewGuid():N}");

    private static string RigDll => Path.Combine(AppContext.BaseDirectory, "AkkaCollector.Rig.dll");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Should_lose_nothing_acked_when_Kafka_goes_down_and_comes_back()
    {
        var (exitCode, verdictLine, output) = await RunAsync("kafka-down", "12s");

        Assert.Matches(@"^lost=0 duplicates=\d+ acked=[1-9]\d*$", verdictLine);
        Assert.True(exitCode == 0, $"exit code {exitCode}. Output:\n{output}");
        Assert.True(File.Exists(Path.Combine(_folder, "report.md")));
        Assert.True(File.Exists(Path.Combine(_folder, "spool-backlog.png")));
        // A collector's log in the run folder keeps its start-up summary and its shutdown's last line among the warnings.
        var log = await File.ReadAllTextAsync(Path.Combine(_folder, "logs", "a1.log"));
        Assert.Contains("Collector started: listening on", log, StringComparison.Ordinal);
        Assert.Contains("Shutdown complete in", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_answer_no_5xx_and_lose_nothing_while_Redis_is_black_holed()
    {
        var (exitCode, verdictLine, output) = await RunAsync("redis-blackhole", "10s");

        Assert.Matches(@"^lost=0 duplicates=\d+ acked=[1-9]\d*$", verdictLine);
        Assert.True(exitCode == 0, $"exit code {exitCode}. Output:\n{output}");
        var serverErrors = Ledger.ReadFile(Path.Combine(_folder, "ledger.tsv")).Where(e => e.Status >= 500).ToArray();
        Assert.True(serverErrors.Length == 0, $"{serverErrors.Length} events answered 5xx, first: {serverErrors.FirstOrDefault()}");
        // The black hole really cut Redis: every collector's lookups tripped their breakers (a warning; the rest logs below it).
        foreach (var collector in new[] { "a1", "a2" })
        {
            var log = await File.ReadAllTextAsync(Path.Combine(_folder, "logs", $"{collector}.log"));
            Assert.Contains("breaker opened", log, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(Path.Combine(_folder, "breaker-states.png")));
    }

    [Fact]
    public async Task Should_print_the_plan_and_start_nothing_on_a_dry_run()
    {
        using var rig = ChildProcess.StartDotnet(RigDll, ["scenario", "run", "kill-9", "--dry-run"]);

        Assert.Equal(0, await rig.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(rig.Lines, line => line.Text.Contains("kill -9 a1", StringComparison.Ordinal));
        Assert.DoesNotContain(rig.Lines, line => line.Text.StartsWith("lost=", StringComparison.Ordinal));
    }

    private async Task<(int ExitCode, string VerdictLine, string Output)> RunAsync(string scenario, string duration)
    {
        using var rig = ChildProcess.StartDotnet(RigDll, ["scenario", "run", scenario, "--duration", duration, "--out", _folder]);
        try
        {
            var exitCode = await rig.WaitForExitAsync(RunTimeout);
            return (exitCode, rig.Lines.Last(line => line.Stream == OutputStream.Stdout).Text, rig.Output);
        }
        catch (TimeoutException)
        {
            // SIGTERM lets the rig stop its collectors, mocks and redis-server by PID; a SIGKILL would orphan them.
            rig.SendSignal(Signals.SIGTERM);
            await rig.WaitForExitAsync(TimeSpan.FromMinutes(1));
            throw;
        }
    }
}
