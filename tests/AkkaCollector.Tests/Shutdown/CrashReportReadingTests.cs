using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Tests.Shutdown;

/// <summary>How a failed stop reads the runtime's crash report when there is no whole one to read.</summary>
public sealed class CrashReportReadingTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("crash-report-");

    [Fact]
    public void Should_name_no_crash_when_the_process_left_no_report()
    {
        Assert.Null(CrashReport.Read(_folder.FullName, 4242));
    }

    [Fact]
    public void Should_say_the_report_is_cut_short_instead_of_throwing_when_the_process_was_killed_while_it_was_written()
    {
        var file = Path.Combine(_folder.FullName, "crash-4242.crashreport.json");
        File.WriteAllText(file, """{"payload": {"protocol_version": "1.0.0", "threads": [{"is_managed": "true", "crashed": "tr""");

        var crash = CrashReport.Read(_folder.FullName, 4242);

        Assert.NotNull(crash);
        Assert.StartsWith($"{file}: not a complete crash report (", crash);
    }

    [Fact]
    public void Should_say_so_when_a_complete_report_marks_no_thread_as_crashed()
    {
        File.WriteAllText(Path.Combine(_folder.FullName, "crash-4242.crashreport.json"),
            """{"payload": {"threads": [{"is_managed": "true", "crashed": "false", "stack_frames": []}]}}""");

        Assert.EndsWith(": no thread is marked as the crashed one", CrashReport.Read(_folder.FullName, 4242));
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
