using System.Net;
using System.Net.Sockets;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Configuration;

/// <summary>The collector binary refuses a bad setting before it listens, and says which setting it was.</summary>
public sealed class StartupValidationTests : IDisposable
{
    private readonly string _spoolFolder = Directory.CreateTempSubdirectory("akkacollector-validation-").FullName;

    [Theory]
    [InlineData("--Spool:Partitions=0", "Spool:Partitions")]
    [InlineData("--Spool:Provider=mysql", "Spool:Provider")]
    [InlineData("--Spool:Provider=postgresql", "Spool:ConnectionString")]
    [InlineData("--Kafka:Compression=brotli", "Kafka:Compression")]
    [InlineData("--Ingress:MaxEventBytes=0", "Ingress:MaxEventBytes")]
    [InlineData("--Ingress:DedupWindow=-1", "Ingress:DedupWindow")]
    [InlineData("--Ingress:AllowedOrigins:0=https://shop.example.com/checkout", "Ingress:AllowedOrigins:0")]
    [InlineData("--Ingress:AllowedOrigins:0=*.example.com", "Ingress:AllowedOrigins:0")]
    [InlineData("--Spool:MaxBytes=abc", "Spool:MaxBytes")]
    [InlineData("--Shutdown:KillWindow=soon", "Shutdown:KillWindow")]
    [InlineData("--Logging:Format=xml", "Logging:Format")]
    [InlineData("--Collector:InstanceId=two words", "Collector:InstanceId")]
    [InlineData("--Spool:TakeoverAfter=1s", "Spool:TakeoverAfter")]
    [InlineData("--urls=http://127.0.0.1:notaport", "urls")]
    [InlineData("--urls=http://192.0.2.1:8080", "urls")]
    [InlineData("--Spool:Path=/proc/akkacollector-spool", "Spool:Path")]
    [InlineData("--Spool:ConnectionString=spool.db", "Spool:ConnectionString")]
    [InlineData("--Redis:Configuration=redis-1:6379,passwrd=x", "Redis:Configuration")]
    [InlineData("--Logging:LogLevel:Default=Loud", "Logging:LogLevel:Default")]
    public async Task Should_exit_non_zero_naming_the_setting_when_a_setting_is_invalid(string badSetting, string named)
    {
        using var collector = ChildProcess.StartDotnet(CollectorBinary.Path,
            ["--urls", "http://127.0.0.1:0", $"--Spool:Path={_spoolFolder}", badSetting]);

        var exitCode = await collector.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(ConfigurationValidation.InvalidConfigurationExitCode, exitCode);
        Assert.Contains(collector.Lines, line => line.Stream == OutputStream.Stderr
            && line.Text.StartsWith($"Invalid configuration: {named}", StringComparison.Ordinal));
        Assert.DoesNotContain(collector.Lines, line => line.Text.Contains("   at ", StringComparison.Ordinal) || line.Text.Contains("Now listening", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_exit_75_with_one_line_and_no_stack_trace_when_another_process_listens_on_its_port()
    {
        using var otherProcess = new TcpListener(IPAddress.Loopback, 0);
        otherProcess.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)otherProcess.LocalEndpoint).Port}";

        var (line, output) = await RefusedAsync(ListenAddresses.PortTakenExitCode, "--urls", url, $"--Spool:Path={_spoolFolder}");

        Assert.Single(output);
        Assert.StartsWith($"Cannot listen: urls = '{url}': address already in use", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_exit_78_with_one_line_naming_Spool_Path_when_it_names_a_file()
    {
        var file = Path.Combine(_spoolFolder, "not-a-folder");
        File.WriteAllText(file, "");

        var (line, output) = await RefusedAsync(ConfigurationValidation.InvalidConfigurationExitCode, "--urls", "http://127.0.0.1:0", $"--Spool:Path={file}");

        Assert.Single(output);
        Assert.StartsWith($"Invalid configuration: Spool:Path = '{file}': is a file", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_stop_in_order_and_exit_70_with_one_line_when_kestrel_fails_after_the_actor_system_started()
    {
        // Kestrel reads its certificate only when it binds, after the actor system and the spool have started.
        var missingCertificate = Path.Combine(_spoolFolder, "missing.pfx");

        var (stderr, log) = await RefusedAsync(StartFailure.ExitCode,
            "--urls", "https://127.0.0.1:0", $"--Kestrel:Certificates:Default:Path={missingCertificate}", $"--Spool:Path={_spoolFolder}");

        Assert.Equal($"Cannot start: Could not find file '{missingCertificate}'.", stderr);
        Assert.Contains(log, line => line.Contains("(the start failed): no drain-delay, the collector never finished starting", StringComparison.Ordinal));
        Assert.Contains(log, line => line.Contains("Kafka flush complete", StringComparison.Ordinal));
        Assert.Contains(log, line => line.Contains("Shutdown complete in", StringComparison.Ordinal) && line.Contains("(the start failed)", StringComparison.Ordinal));
        Assert.DoesNotContain(log, line => line.Contains("failed in phase", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_start_with_a_kill_window_and_a_spool_bound_written_with_units()
    {
        using var collector = ChildProcess.StartDotnet(CollectorBinary.Path,
            ["--urls", "http://127.0.0.1:0", $"--Spool:Path={_spoolFolder}", "--Shutdown:KillWindow=30s", "--Spool:MaxBytes=1GiB"]);
        try
        {
            var summary = await collector.WaitForLineAsync(line => line.Contains("Collector started", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

            Assert.Contains("bound at 1073741824 bytes", summary, StringComparison.Ordinal);
        }
        finally
        {
            collector.SendSignal(Signals.SIGTERM);
            await collector.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task Should_exit_70_with_one_line_naming_the_journal_when_it_is_not_a_database_and_the_actor_system_cannot_be_built()
    {
        // The journal opens while the host builds the actor system, before it has a hosted service it could stop.
        var journal = Path.Combine(_spoolFolder, "spool.db");
        await File.WriteAllTextAsync(journal, new string('x', 8192));

        var (stderr, _) = await RefusedAsync(StartFailure.ExitCode, "--urls", "http://127.0.0.1:0", $"--Spool:Path={_spoolFolder}");

        Assert.Equal($"Cannot start: The spool's journal '{journal}' cannot be opened: SQLite Error 26: 'file is not a database'.", stderr);
    }

    [Fact]
    public async Task Should_exit_78_naming_the_setting_when_a_sqlite_connection_strings_folder_does_not_exist()
    {
        var (stderr, _) = await RefusedAsync(ConfigurationValidation.InvalidConfigurationExitCode,
            "--urls", "http://127.0.0.1:0", "--Spool:ConnectionString=Data Source=/proc/akkacollector/spool.db");

        Assert.Equal("Invalid configuration: Spool:ConnectionString names the journal '/proc/akkacollector/spool.db': " +
                     "its folder '/proc/akkacollector' does not exist (SQLite creates the file, not its folder)", stderr);
    }

    [Fact]
    public async Task Should_start_and_stop_cleanly_with_the_production_profile()
    {
        using var collector = ChildProcess.StartDotnet(CollectorBinary.Path,
            ["--urls", "http://127.0.0.1:0", $"--Spool:Path={_spoolFolder}", "--Collector:Profile=production"]);
        try
        {
            var summary = await collector.WaitForLineAsync(line => line.Contains("Collector started", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

            Assert.Contains("spool 16 partitions", summary, StringComparison.Ordinal);
        }
        finally
        {
            collector.SendSignal(Signals.SIGTERM);
            Assert.Equal(0, await collector.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }
        // hocon/production.conf's own window: before the plan read the profile, this start was refused against the shipped 10 s.
        Assert.Contains(collector.Lines, line => line.Text.Contains("s of a 30s kill window", StringComparison.Ordinal));
    }

    /// <summary>
    /// Runs the collector, which must end with <paramref name="exitCode"/> having written exactly one line on stderr:
    /// that line, and every line it wrote on either stream.
    /// </summary>
    private static async Task<(string Stderr, IReadOnlyList<string> Output)> RefusedAsync(int exitCode, params string[] args)
    {
        using var collector = ChildProcess.StartDotnet(CollectorBinary.Path, args);

        Assert.Equal(exitCode, await collector.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var stderr = Assert.Single(collector.Lines, line => line.Stream == OutputStream.Stderr);
        return (stderr.Text, collector.Lines.Select(line => line.Text).ToList());
    }

    public void Dispose() => Directory.Delete(_spoolFolder, recursive: true);
}
