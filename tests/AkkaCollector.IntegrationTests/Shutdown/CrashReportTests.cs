using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Shutdown;

/// <summary>
/// Every collector a test starts asks the runtime for a crash report, and a failed stop names the crashed thread's
/// frames: CI once saw a collector exit 139 while it shut down, with nothing in its output to say where.
/// </summary>
public sealed class CrashReportTests
{
    // The runtime's helper suspends every thread and walks its stack: seconds on a loaded machine.
    private static readonly TimeSpan ReportPatience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_read_the_crashed_threads_frames_from_the_report_the_runtime_writes_for_a_collector()
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());
        Assert.Null(collector.CrashOfCurrent());

        // A SIGSEGV sent with kill(2) is no fault: the runtime writes its report as for one, and the process goes on.
        // So this shows that the report is asked for and read, without a crash to wait for.
        Assert.True(collector.Signal(Signals.SIGSEGV));
        await collector.Current.WaitForLineAsync(line => line.Contains("[createdump] Crash report successfully written", StringComparison.Ordinal), ReportPatience);

        var crash = collector.CrashOfCurrent();
        Assert.NotNull(crash);
        Assert.StartsWith($"crash report {collector.SpoolFolder}/crash-{collector.Pid}.crashreport.json, crashed thread 0x", crash);
        // The runtime's own native frames and managed ones, each on a line of its own.
        Assert.Matches(@"\n  libcoreclr\.so!", crash);
        Assert.Matches(@"\n  System\.[\w.`]+\(", crash);
    }

    [Fact]
    public async Task Should_name_no_crash_when_a_collector_stops_cleanly()
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());

        var stop = await collector.StopAsync(ShippedShutdown.KillWindow);

        Assert.True(stop.KeptTheKillWindow, stop.ToString());
        Assert.Null(stop.Crash);
        Assert.Empty(Directory.GetFiles(collector.SpoolFolder, "crash-*"));
    }
}
