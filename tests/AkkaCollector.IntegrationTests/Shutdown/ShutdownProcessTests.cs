using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using AkkaCollector.Shutdown;
using AkkaCollector.Verbs;

namespace AkkaCollector.IntegrationTests.Shutdown;

public sealed partial class ShutdownProcessTests
{
    // The shipped hocon/shutdown.conf: a 10 s kill window, a 2 s drain.
    private static readonly TimeSpan ShippedKillWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_refuse_to_start_and_name_every_phase_when_the_kill_window_is_too_small()
    {
        var port = CollectorProcess.FreePort();

        var (exitCode, _, stderr) = await CollectorProcess.RunToExitAsync(
            StartPatience, "--urls", $"http://127.0.0.1:{port}", "--Shutdown:KillWindow=00:00:03");

        Assert.Equal(ShutdownPlan.DoesNotFitExitCode, exitCode);
        Assert.Contains("Refusing to start", stderr);
        Assert.Contains("> kill window 3.0s", stderr);
        foreach (var phase in ShutdownPlan.BudgetedPhases)
            Assert.Contains(phase, stderr);
    }

    [Fact]
    public async Task Should_print_the_plan_and_exit_0_when_the_shipped_budget_fits()
    {
        var (exitCode, stdout, _) = await CollectorProcess.RunToExitAsync(StartPatience, ShutdownPlanVerb.Name);

        Assert.Equal(0, exitCode);
        Assert.Contains("FITS:", stdout);
        foreach (var phase in ShutdownPlan.BudgetedPhases)
            Assert.Matches($@"(?m)^{phase}\s+\d", stdout);
    }

    [Fact]
    public async Task Should_print_the_plan_and_exit_non_zero_when_a_six_second_kill_window_is_too_small()
    {
        var (exitCode, stdout, _) = await CollectorProcess.RunToExitAsync(
            StartPatience, ShutdownPlanVerb.Name, "--Shutdown:KillWindow=00:00:06");

        Assert.Equal(ShutdownPlan.DoesNotFitExitCode, exitCode);
        Assert.Contains("DOES NOT FIT:", stdout);
        Assert.Contains("would kill the process during service-stop", stdout);
    }

    [Theory]
    [InlineData(CollectorProcess.SigTerm)]
    [InlineData(CollectorProcess.SigInt)]
    public async Task Should_drain_then_exit_0_inside_the_kill_window_with_the_duration_on_the_last_line(int signal)
    {
        var port = CollectorProcess.FreePort();
        using var collector = CollectorProcess.Start("--urls", $"http://127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
        await WaitForReadinessAsync(http, HttpStatusCode.OK, StartPatience);

        var stopwatch = Stopwatch.StartNew();
        collector.Signal(signal);
        await WaitForReadinessAsync(http, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(2));
        var exitCode = await collector.WaitForExitAsync(ShippedKillWindow);
        stopwatch.Stop();

        Assert.Equal(0, exitCode);
        var last = collector.Stdout.Last(line => line.Trim().Length > 0);
        var reported = FinalLine().Match(last);
        Assert.True(reported.Success, $"last line: {last}");
        Assert.InRange(double.Parse(reported.Groups["seconds"].Value, System.Globalization.CultureInfo.InvariantCulture), 1.9, stopwatch.Elapsed.TotalSeconds);
        AssertPhasesInOrder(collector.StdoutText);
    }

    [Fact]
    public async Task Should_exit_0_when_the_shutdown_verb_asks_with_the_admin_token()
    {
        const string token = "integration-admin-token";
        var port = CollectorProcess.FreePort();
        using var collector = CollectorProcess.Start("--urls", $"http://127.0.0.1:{port}", $"--Shutdown:AdminToken={token}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
        await WaitForReadinessAsync(http, HttpStatusCode.OK, StartPatience);

        using var verb = CollectorProcess.Start(
            new Dictionary<string, string> { [ShutdownVerb.TokenVariable] = token },
            ShutdownVerb.Name, "--url", $"http://127.0.0.1:{port}", "--reason", "integration test");
        var verbExit = await verb.WaitForExitAsync(StartPatience);
        var exitCode = await collector.WaitForExitAsync(ShippedKillWindow);

        Assert.Equal(0, verbExit);
        Assert.StartsWith("202 Accepted", verb.StdoutText);
        Assert.Equal(0, exitCode);
        var last = collector.Stdout.Last(line => line.Trim().Length > 0);
        Assert.Matches(FinalLine(), last);
        Assert.Contains("admin endpoint: integration test", last);
        AssertPhasesInOrder(collector.StdoutText);
    }

    private static void AssertPhasesInOrder(string stdout)
    {
        var positions = new[] { "Shutdown phase before-service-unbind", "Shutdown phase service-unbind", "Shutdown phase service-requests-done", "Shutdown complete in" }
            .Select(marker => (marker, at: stdout.IndexOf(marker, StringComparison.Ordinal)))
            .ToList();
        Assert.All(positions, p => Assert.True(p.at >= 0, $"missing: {p.marker}\n{stdout}"));
        Assert.Equal(positions.OrderBy(p => p.at).Select(p => p.marker), positions.Select(p => p.marker));
    }

    private static async Task WaitForReadinessAsync(HttpClient http, HttpStatusCode expected, TimeSpan patience)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/health/ready");
                if (response.StatusCode == expected)
                    return;
            }
            catch (HttpRequestException) when (deadline.Elapsed < patience)
            {
                // Not listening yet.
            }
            if (deadline.Elapsed >= patience)
                throw new TimeoutException($"/health/ready did not answer {(int)expected} within {patience}");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"Shutdown complete in (?<seconds>\d+\.\d+)s of a 10s kill window \(.+\); \d+ events remain spooled$")]
    private static partial Regex FinalLine();
}
