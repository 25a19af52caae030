using Akka.Configuration;
using AkkaCollector.Shutdown;
using Microsoft.Extensions.Configuration;

namespace AkkaCollector.Tests.Shutdown;

public sealed class ShutdownPlanTests
{
    // The story: pm2 killed the collector after 3 s while its shutdown allowed itself 4. Tests append the kill
    // window (and any other setting) after this text, because in HOCON the later definition wins.
    private const string StoryBudget = """
        collector.shutdown { safety-margin = 0.5s, drain-delay = 0.5s }
        akka.coordinated-shutdown {
          run-by-clr-shutdown-hook = off
          phases {
            before-service-unbind.timeout = 1s
            service-unbind.timeout = 0.25s
            service-requests-done.timeout = 0.75s
            service-stop.timeout = 1.5s
            before-actor-system-terminate.timeout = 0.25s
            actor-system-terminate.timeout = 0.25s
          }
        }
        """;

    private static ShutdownPlan Plan(string hocon) => ShutdownPlan.FromConfig(ConfigurationFactory.ParseString(hocon));

    private static ShutdownPlan StoryPlanWithKillWindow(string killWindow) =>
        Plan(StoryBudget + $"\ncollector.shutdown.kill-window = {killWindow}");

    [Fact]
    public void Should_fit_when_the_phases_plus_the_margin_equal_the_kill_window()
    {
        var plan = StoryPlanWithKillWindow("4.5s");

        Assert.True(plan.Fits, plan.Render());
        Assert.Equal(TimeSpan.FromSeconds(4), plan.PhasesTotal);
        Assert.StartsWith("FITS:", plan.Verdict());
    }

    [Fact]
    public void Should_not_fit_the_storys_three_second_kill_window_and_name_every_phase()
    {
        var plan = StoryPlanWithKillWindow("3s");

        Assert.False(plan.Fits);
        var verdict = plan.Verdict();
        Assert.StartsWith("DOES NOT FIT:", verdict);
        foreach (var phase in ShutdownPlan.BudgetedPhases)
            Assert.Contains(phase, verdict);
        Assert.Contains("= 4.5s > kill window 3.0s (over by 1.5s)", verdict);
    }

    [Fact]
    public void Should_say_in_which_phase_the_process_manager_would_kill_the_process()
    {
        var plan = StoryPlanWithKillWindow("2.5s");

        Assert.Contains("would kill the process during service-stop", plan.Verdict());
    }

    [Fact]
    public void Should_render_each_phase_with_its_timeout_and_the_cumulative_time()
    {
        var table = StoryPlanWithKillWindow("4.5s").Render();

        var rows = table.Split(Environment.NewLine);
        Assert.Matches(@"^phase\s+timeout\s+cumulative$", rows[0]);
        Assert.Matches(@"^before-service-unbind\s+1\.0s\s+1\.0s$", rows[1]);
        Assert.Matches(@"^service-unbind\s+0\.25s\s+1\.25s$", rows[2]);
        Assert.Matches(@"^service-requests-done\s+0\.75s\s+2\.0s$", rows[3]);
        Assert.Matches(@"^service-stop\s+1\.5s\s+3\.5s$", rows[4]);
        Assert.Matches(@"^before-actor-system-terminate\s+0\.25s\s+3\.75s$", rows[5]);
        Assert.Matches(@"^actor-system-terminate\s+0\.25s\s+4\.0s$", rows[6]);
        Assert.Matches(@"^safety margin\s+0\.5s\s+4\.5s$", rows[7]);
        Assert.Matches(@"^kill window\s+4\.5s$", rows[8]);
    }

    [Fact]
    public void Should_mark_the_phases_that_would_end_past_the_kill_window()
    {
        var rows = StoryPlanWithKillWindow("3s").Render().Split(Environment.NewLine);

        Assert.DoesNotContain("past the kill window", rows.Single(r => r.StartsWith("service-requests-done", StringComparison.Ordinal)));
        Assert.Contains("past the kill window", rows.Single(r => r.StartsWith("service-stop", StringComparison.Ordinal)));
    }

    [Fact]
    public void Should_count_akkas_default_phase_timeout_for_a_phase_the_hocon_leaves_out()
    {
        var plan = Plan("""
            collector.shutdown { kill-window = 60s, safety-margin = 1s, drain-delay = 1s }
            akka.coordinated-shutdown { run-by-clr-shutdown-hook = off, default-phase-timeout = 7s }
            """);

        Assert.Equal(TimeSpan.FromSeconds(7), plan.TimeoutOf("service-stop"));
    }

    [Fact]
    public void Should_refuse_a_drain_delay_that_the_first_phase_would_cut_short()
    {
        var plan = Plan(StoryBudget + "\ncollector.shutdown { kill-window = 60s, drain-delay = 1s }");

        Assert.False(plan.Fits);
        Assert.Contains("drain-delay 1.0s >= before-service-unbind timeout 1.0s", plan.Verdict());
    }

    [Fact]
    public void Should_refuse_akkas_own_signal_hook_because_it_stops_actors_before_the_web_server()
    {
        var plan = Plan(StoryBudget + "\ncollector.shutdown.kill-window = 60s\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = on");

        Assert.False(plan.Fits);
        Assert.Contains("run-by-clr-shutdown-hook = on", plan.Verdict());
    }

    [Fact]
    public void Should_name_the_setting_when_the_kill_window_is_missing()
    {
        var error = Assert.Throws<ConfigurationException>(() => Plan("collector.shutdown { safety-margin = 1s, drain-delay = 1s }"));

        Assert.Contains("collector.shutdown.kill-window", error.Message);
    }

    [Fact]
    public void Should_fit_the_shipped_budget_into_the_shipped_kill_window()
    {
        var plan = ShutdownSettings.Load(new ConfigurationBuilder().Build()).Plan;

        Assert.True(plan.Fits, plan.Render());
    }

    [Fact]
    public void Should_let_dotnet_configuration_override_the_shipped_kill_window()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Shutdown:KillWindow"] = "00:00:06" })
            .Build();

        var plan = ShutdownSettings.Load(configuration).Plan;

        Assert.Equal(TimeSpan.FromSeconds(6), plan.KillWindow);
        Assert.False(plan.Fits);
    }

    [Fact]
    public void Should_check_a_profile_against_its_own_kill_window_and_let_dotnet_configuration_override_it()
    {
        var production = CollectorHocon.LoadProfile("production");

        var plan = ShutdownSettings.Load(new ConfigurationBuilder().Build(), production).Plan;
        var overridden = ShutdownSettings.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Shutdown:KillWindow"] = "00:00:20" })
            .Build(), production).Plan;

        Assert.Equal(production.GetTimeSpan("collector.shutdown.kill-window"), plan.KillWindow);
        Assert.Equal(production.GetTimeSpan("akka.coordinated-shutdown.phases.service-stop.timeout"), plan.TimeoutOf("service-stop"));
        Assert.True(plan.Fits, plan.Render());
        Assert.Equal(TimeSpan.FromSeconds(20), overridden.KillWindow);
        Assert.False(overridden.Fits);
    }
}
