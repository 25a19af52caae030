using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using AkkaCollector.Shutdown;
using AkkaCollector.Testing.Processes;
using AkkaCollector.Verbs;

namespace AkkaCollector.IntegrationTests.Shutdown;

public sealed partial class ShutdownProcessTests
{
    private static readonly TimeSpan ShippedKillWindow = ShippedShutdown.KillWindow;
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_refuse_to_start_and_name_every_phase_when_the_kill_window_is_too_small()
    {
        // Port 0: the collector must refuse before it binds anything.
        var (exitCode, _, stderr) = await RunToExitAsync(["--urls", "http://127.0.0.1:0", "--Shutdown:KillWindow=00:00:03"]);

        Assert.Equal(ShutdownPlan.DoesNotFitExitCode, exitCode);
        Assert.Contains("Refusing to start", stderr);
        Assert.Contains("> kill window 3.0s", stderr);
        foreach (var phase in ShutdownPlan.BudgetedPhases)
            Assert.Contains(phase, stderr);
    }

    [Fact]
    public async Task Should_print_the_plan_and_exit_0_when_the_shipped_budget_fits()
    {
        var (exitCode, stdout, _) = await RunToExitAsync([ShutdownPlanVerb.Name]);

        Assert.Equal(0, exitCode);
        Assert.Contains("FITS:", stdout);
        foreach (var phase in ShutdownPlan.BudgetedPhases)
            Assert.Matches($@"(?m)^{phase}\s+\d", stdout);
    }

    [Fact]
    public async Task Should_print_the_plan_and_exit_non_zero_when_a_six_second_kill_window_is_too_small()
    {
        var (exitCode, stdout, _) = await RunToExitAsync([ShutdownPlanVerb.Name, "--Shutdown:KillWindow=00:00:06"]);

        Assert.Equal(ShutdownPlan.DoesNotFitExitCode, exitCode);
        Assert.Contains("DOES NOT FIT:", stdout);
        Assert.Contains("would kill the process during service-stop", stdout);
    }

    [Theory]
    [InlineData(Signals.SIGTERM)]
    [InlineData(Signals.SIGINT)]
    public async Task Should_drain_then_exit_0_inside_the_kill_window_with_the_duration_on_the_last_line(int signal)
    {
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions());
        using var http = new HttpClient { BaseAddress = new Uri(collector.BaseUrl), Timeout = TimeSpan.FromSeconds(2) };

        var stopwatch = Stopwatch.StartNew();
        Assert.True(collector.Signal(signal));
        // The kill window runs from the signal, as the process manager's does, not from the end of the readiness poll.
        var exit = collector.WaitForExitAsync(ShippedKillWindow);
        await Readiness.WaitForAsync(http, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(2));
        var exitCode = await exit;
        stopwatch.Stop();

        Assert.Equal(0, exitCode);
        var last = LastStdoutLine(collector.Current);
        var reported = FinalLine().Match(last);
        Assert.True(reported.Success, $"last line: {last}");
        Assert.InRange(double.Parse(reported.Groups["seconds"].Value, System.Globalization.CultureInfo.InvariantCulture), 1.9, stopwatch.Elapsed.TotalSeconds);
        AssertPhasesInOrder(Stdout(collector.Current));
    }

    [Fact]
    public async Task Should_exit_0_when_the_shutdown_verb_asks_with_the_admin_token()
    {
        const string token = "integration-admin-token";
        using var collector = await CollectorProcess.StartAsync(new CollectorProcessOptions { Arguments = [$"--Shutdown:AdminToken={token}"] });

        var (verbExit, verbStdout, _) = await RunToExitAsync(
            [ShutdownVerb.Name, "--url", collector.BaseUrl, "--reason", "integration test"],
            new Dictionary<string, string> { [ShutdownVerb.TokenVariable] = token });
        var exitCode = await collector.WaitForExitAsync(ShippedKillWindow);

        Assert.Equal(0, verbExit);
        Assert.StartsWith("202 Accepted", verbStdout);
        Assert.Equal(0, exitCode);
        var last = LastStdoutLine(collector.Current);
        Assert.Matches(FinalLine(), last);
        Assert.Contains("admin endpoint: integration test", last);
        AssertPhasesInOrder(Stdout(collector.Current));
    }

    /// <summary>Runs the collector binary (a verb, or a start that is expected to fail) to its end.</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(
        IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = ChildProcess.StartDotnet(CollectorBinary.Path, args, environment);
        var exitCode = await process.WaitForExitAsync(StartPatience);
        return (exitCode, Stdout(process), string.Join('\n', process.Lines.Where(l => l.Stream == OutputStream.Stderr).Select(l => l.Text)));
    }

    private static string Stdout(ChildProcess process) =>
        string.Join('\n', process.Lines.Where(l => l.Stream == OutputStream.Stdout).Select(l => l.Text));

    private static string LastStdoutLine(ChildProcess process) =>
        process.Lines.Last(l => l.Stream == OutputStream.Stdout && l.Text.Trim().Length > 0).Text;

    private static void AssertPhasesInOrder(string stdout)
    {
        var positions = new[] { "Shutdown phase before-service-unbind", "Shutdown phase service-unbind", "Shutdown phase service-requests-done", "Shutdown complete in" }
            .Select(marker => (marker, at: stdout.IndexOf(marker, StringComparison.Ordinal)))
            .ToList();
        Assert.All(positions, p => Assert.True(p.at >= 0, $"missing: {p.marker}\n{stdout}"));
        Assert.Equal(positions.OrderBy(p => p.at).Select(p => p.marker), positions.Select(p => p.marker));
    }

    [GeneratedRegex(@"Shutdown complete in (?<seconds>\d+\.\d+)s of a 10s kill window \(.+\); \d+ events remain spooled$")]
    private static partial Regex FinalLine();
}
