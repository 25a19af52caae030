using System.Text.Json;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Observability;

/// <summary>The collector's console log as an operator's log shipper sees it, from a real process started and stopped with SIGTERM.</summary>
public sealed class CollectorLogTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_write_only_json_lines_from_the_configuration_summary_to_the_shutdown_line_when_json_is_selected()
    {
        using var collector = await CollectorProcess.StartAsync(
            new CollectorProcessOptions { Arguments = ["--Logging:Format=json", "--Spool:Partitions=3", "--Spool:MaxBytes=3000000"] });

        Assert.True(collector.Terminate());
        Assert.Equal(0, await collector.WaitForExitAsync(ExitTimeout));

        var entries = collector.Current.Lines.Where(line => line.Stream == OutputStream.Stdout).Select(line => Parse(line.Text)).ToList();
        var lifecycle = entries.Where(entry => entry.GetProperty("Category").GetString() == typeof(AkkaCollector.Observability.LifecycleLog).FullName).ToList();
        var summary = lifecycle[0].GetProperty("State");
        Assert.Equal("3", summary.GetProperty("Partitions").ToString());
        Assert.Equal("3000000", summary.GetProperty("SpoolMaxBytes").ToString());
        Assert.Equal("embedded mock", summary.GetProperty("KafkaMode").GetString());
        Assert.Equal("off", summary.GetProperty("Lookups").GetString());
        Assert.Equal(collector.BaseUrl, summary.GetProperty("Urls").GetString());
        Assert.Equal(typeof(AkkaCollector.Shutdown.CollectorShutdownService).FullName, entries[^1].GetProperty("Category").GetString());
        Assert.StartsWith("Shutdown complete in", entries[^1].GetProperty("Message").GetString());
    }

    [Fact]
    public async Task Should_write_one_line_per_entry_and_flush_the_shutdown_line_before_exiting_on_SIGTERM()
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());

        Assert.True(collector.Terminate());
        Assert.Equal(0, await collector.WaitForExitAsync(ExitTimeout));

        var stdout = collector.Current.Lines.Where(line => line.Stream == OutputStream.Stdout).Select(line => line.Text).ToList();
        Assert.All(stdout, line => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trce|dbug|info|warn|fail|crit): ", line));
        Assert.Matches(@"AkkaCollector\.Shutdown\.CollectorShutdownService\[\d+\] Shutdown complete in \d+\.\d+s .*; 0 events remain spooled$", stdout[^1]);
        // The spool never snapshots, and says so to Akka rather than leaving it to warn on every start.
        Assert.DoesNotContain(stdout, line => line.Contains("No default snapshot store configured", StringComparison.Ordinal));
    }

    private static JsonElement Parse(string line)
    {
        try
        {
            return JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"A stdout line is not JSON ({e.Message}): {line}");
        }
    }
}
