using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Configuration;

/// <summary>
/// A process manager may start the collector from any directory (a pm2 file or a unit without a working directory, an
/// operator's shell in their home). Its appsettings.json is read from beside the binary all the same, as its HOCON
/// files and profiles are: otherwise the operator's edits there are silently ignored, and so is the shipped log level
/// that keeps ASP.NET Core from logging every request (4 lines a request: 286 MB in a minute and a half of the bench's
/// load, measured).
/// </summary>
public sealed class WorkingDirectoryTests : IDisposable
{
    private readonly string _spoolFolder = Directory.CreateTempSubdirectory("akkacollector-cwd-spool-").FullName;
    private readonly string _elsewhere = Directory.CreateTempSubdirectory("akkacollector-cwd-").FullName;

    [Fact]
    public async Task Should_read_appsettings_json_beside_the_binary_when_started_from_another_directory()
    {
        using var collector = ChildProcess.StartDotnet(CollectorBinary.Path,
            ["--urls", "http://127.0.0.1:0", $"--Spool:Path={_spoolFolder}"], workingDirectory: _elsewhere);
        try
        {
            using var http = new HttpClient { BaseAddress = await collector.WaitForListeningUrlAsync(TimeSpan.FromSeconds(60)) };
            Assert.True((await http.GetAsync("/health/live")).IsSuccessStatusCode);
        }
        finally
        {
            collector.SendSignal(Signals.SIGTERM);
            await collector.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        var binaryFolder = Path.GetDirectoryName(CollectorBinary.Path)!;
        Assert.Contains(collector.Lines, line => line.Text.Contains($"Content root path: {binaryFolder}", StringComparison.Ordinal));
        // appsettings.json sets Microsoft.AspNetCore to Warning: no request may be logged at Information.
        Assert.DoesNotContain(collector.Lines, line => line.Text.Contains("Executing endpoint", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        Directory.Delete(_spoolFolder, recursive: true);
        Directory.Delete(_elsewhere, recursive: true);
    }
}
