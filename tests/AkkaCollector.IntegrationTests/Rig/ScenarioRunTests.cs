using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>Shipped scenarios run end to end through the rig's command line, every process real.</summary>
public sealed class ScenarioRunTests
{
    private static string RigDll => Path.Combine(AppContext.BaseDirectory, "AkkaCollector.Rig.dll");

    [Fact]
    public async Task Should_lose_nothing_acked_when_Kafka_goes_down_and_comes_back()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"rig-kafka-down-{Guid.NewGuid():N}");
        using var rig = ChildProcess.StartDotnet(RigDll, ["scenario", "run", "kafka-down", "--duration", "12s", "--out", folder]);
        try
        {
            var exitCode = await rig.WaitForExitAsync(TimeSpan.FromMinutes(4));

            var last = rig.Lines.Last(line => line.Stream == OutputStream.Stdout).Text;
            Assert.Matches(@"^lost=0 duplicates=\d+ acked=[1-9]\d*$", last);
            Assert.True(exitCode == 0, $"exit code {exitCode}. Output:\n{rig.Output}");
            Assert.True(File.Exists(Path.Combine(folder, "report.md")));
            Assert.True(File.Exists(Path.Combine(folder, "spool-backlog.png")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Should_print_the_plan_and_start_nothing_on_a_dry_run()
    {
        using var rig = ChildProcess.StartDotnet(RigDll, ["scenario", "run", "kill-9", "--dry-run"]);

        Assert.Equal(0, await rig.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(rig.Lines, line => line.Text.Contains("kill -9 a1", StringComparison.Ordinal));
        Assert.DoesNotContain(rig.Lines, line => line.Text.StartsWith("lost=", StringComparison.Ordinal));
    }
}
