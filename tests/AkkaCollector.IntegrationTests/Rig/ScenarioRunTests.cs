using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AkkaCollector.Rig.Verification;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>Shipped scenarios run end to end through the rig's command line, every process real.</summary>
public sealed partial class ScenarioRunTests : IDisposable
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

    [Fact]
    public async Task Should_fail_a_restart_whose_collector_overstays_the_kill_window_and_say_so_in_the_report()
    {
        // One collector, restarted after a pause in which the test freezes it (SIGSTOP): a process manager's SIGTERM
        // then finds a process that cannot stop, and its kill window runs out.
        var scenario = Path.Combine(_folder, "frozen-restart.yaml");
        Directory.CreateDirectory(_folder);
        await File.WriteAllTextAsync(scenario, """
            name: frozen-restart
            description: a collector that cannot stop is restarted
            duration: 10s
            topology:
              zones: [{ name: a, collectors: 1 }]
              kafka: { brokers: 1, partitions: 4 }
            traffic: { rate: 50, batch: 1, concurrency: 2, timeout: 2s }
            steps:
              - do: start-traffic
              - do: wait
                for: 5s
              - do: restart
                collector: a1
              - do: verify
            """);
        using var rig = ChildProcess.StartDotnet(RigDll, ["scenario", "run", scenario, "--out", _folder]);
        await rig.WaitForLineAsync(line => line.Contains("step 2/", StringComparison.Ordinal), RunTimeout);
        var collector = rig.Lines.Select(line => StartedChild().Match(line.Text)).Single(m => m.Success && m.Groups["name"].Value == "collector a1");
        Assert.True(Signals.Send(int.Parse(collector.Groups["pid"].Value, CultureInfo.InvariantCulture), Signals.SIGSTOP));

        var exitCode = await rig.WaitForExitAsync(RunTimeout);

        Assert.True(exitCode == 1, $"exit code {exitCode}. Output:\n{rig.Output}");
        var report = await File.ReadAllTextAsync(Path.Combine(_folder, "report.md"));
        Assert.Contains("**The run failed.** The run stopped before every step ran: step 3 (restart a1 (SIGTERM)) failed: a1 did not exit 0 inside its 10 s kill window after SIGTERM: " +
                        "still running after 10.", report, StringComparison.Ordinal);
        Assert.Contains("SIGKILLed (exit 137)", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_leave_no_collector_Kafka_mock_redis_server_haproxy_or_prometheus_behind_when_the_rig_is_killed_with_SIGKILL()
    {
        using var rig = ChildProcess.StartDotnet(RigDll, ["scenario", "run", "redis-blackhole", "--duration", "60s", "--out", _folder]);
        // The first step's line comes once every process of the topology has started and logged its PID.
        await rig.WaitForLineAsync(line => line.Contains("step 1/", StringComparison.Ordinal), RunTimeout);
        var children = rig.Lines.Select(line => StartedChild().Match(line.Text)).Where(m => m.Success)
            .Select(m => (Name: m.Groups["name"].Value, Pid: int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture))).ToArray();
        int[] survivors = [];
        try
        {
            Assert.Equal(["Kafka mock", "collector a1", "collector a2", "haproxy", "prometheus", "redis-server"], children.Select(c => c.Name).Order(StringComparer.Ordinal));
            Assert.All(children, child => Assert.True(IsRunning(child.Pid), $"{child.Name} (pid {child.Pid}) is not running before the kill"));

            Assert.True(rig.Kill());
            await rig.WaitForExitAsync(TimeSpan.FromSeconds(10));
            // Each child's watchdog polls once a second; a loaded machine may take a few to run it.
            survivors = await StillRunningAfterAsync(children.Select(c => c.Pid), TimeSpan.FromSeconds(15));

            Assert.True(survivors.Length == 0, $"still running after the rig's SIGKILL: {string.Join(", ", children.Where(c => survivors.Contains(c.Pid)))}");
        }
        finally
        {
            // Only when the assertion failed: the test must not leave them behind either. (On an earlier failure the
            // rig's own dispose SIGKILLs it, and the watchdogs under test take its children.)
            foreach (var pid in survivors)
                Signals.Send(pid, Signals.SIGKILL);
        }
    }

    /// <summary>The PIDs of <paramref name="pids"/> still running once <paramref name="patience"/> has passed (or none are).</summary>
    private static async Task<int[]> StillRunningAfterAsync(IEnumerable<int> pids, TimeSpan patience)
    {
        var running = pids.ToArray();
        var clock = Stopwatch.StartNew();
        while (running.Length > 0 && clock.Elapsed < patience)
        {
            await Task.Delay(100);
            running = running.Where(IsRunning).ToArray();
        }
        return running;
    }

    /// <summary>The process exists and is not a zombie (a killed orphan waits for init to reap it).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) state ...": the comm may hold spaces and parentheses, the state follows the last ')'.
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
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
            // SIGTERM lets the rig unwind (collectors stopped gracefully, logs and report written); a SIGKILL would only
            // leave it to the children's watchdogs.
            rig.SendSignal(Signals.SIGTERM);
            await rig.WaitForExitAsync(TimeSpan.FromMinutes(1));
            throw;
        }
    }

    // The topology's start-up lines: "collector a1 (zone a) pid N", "zone a: Kafka mock pid N", "redis-server pid N".
    [GeneratedRegex(@"(?<name>collector \w+|Kafka mock|redis-server|haproxy|prometheus)(?: \(zone \w+\))? pid (?<pid>\d+)")]
    private static partial Regex StartedChild();
}
