using AkkaCollector.Rig.LoadBalancer;
using AkkaCollector.Testing.Deploy;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>The lb line's figures from HAProxy's polled stats: which mark-downs count, and where 5xx and retries come from.</summary>
public sealed class LbFiguresTests
{
    private static readonly HaproxyStatsRow Frontend = new(LoadBalancerWatch.Frontend, "FRONTEND", "OPEN", 0, 0, 0, Responses5xx: 3, Requests: 100);
    private static readonly HaproxyStatsRow Backend = new(LoadBalancerWatch.Backend, "BACKEND", "UP", 0, Retries: 2, Redispatches: 5, 0, 100);

    [Fact]
    public void Should_count_a_collector_taken_out_of_rotation_while_the_scenario_left_it_running()
    {
        LbSample[] samples = [new(10, "a1", "UP", 0), new(11, "a1", "UP 1/2", 0), new(12, "a1", "DOWN", 1), new(15, "a1", "UP", 1)];

        var figures = LbFigures.Compute(samples, [], Frontend, Backend, notAnswered: 4);

        Assert.Equal("lb: 5xx=3 marked_down=1 not_answered=4", figures.Line);
        Assert.Equal(["a1 at 12.0 s"], figures.MarkedDownAt);
    }

    [Fact]
    public void Should_not_count_a_collector_the_scenario_killed_or_stopped_even_when_HAProxy_noticed_just_after_its_start()
    {
        // Killed at 20 s, live again at 21.5 s; HAProxy's second failed check lands after that, inside the check lag.
        LbSample[] samples = [new(20, "b2", "UP", 0), new(21, "b2", "UP 1/2", 0), new(23, "b2", "DOWN", 1), new(26, "b2", "UP", 1)];

        var figures = LbFigures.Compute(samples, [new ScenarioOutage("b2", 20, 21.5)], Frontend, Backend, notAnswered: 0);

        Assert.Equal(0, figures.MarkedDown);
    }

    [Fact]
    public void Should_count_a_mark_down_of_another_collector_or_long_after_the_outage()
    {
        LbSample[] samples =
        [
            new(20, "b1", "UP", 0), new(22, "b1", "DOWN", 1), new(40, "b2", "UP", 1), new(41, "b2", "DOWN", 2),
        ];

        var figures = LbFigures.Compute(samples, [new ScenarioOutage("b2", 20, 25)], Frontend, Backend, notAnswered: 0);

        Assert.Equal(2, figures.MarkedDown);
    }

    [Fact]
    public void Should_count_retries_to_the_same_and_to_another_collector_as_retried()
    {
        var figures = LbFigures.Compute([], [], Frontend, Backend, notAnswered: 0);

        Assert.Equal(7, figures.Retries);
        Assert.Equal(5, figures.Redispatches);
    }

    [Fact]
    public void Should_read_HAProxy_stats_csv_by_column_name()
    {
        var rows = HaproxyStatsRow.ParseCsv(
            "# pxname,svname,wretr,wredis,status,chkdown,hrsp_5xx,req_tot\n" +
            "collectors,a1,1,2,UP 1/2,3,4,50\n");

        Assert.Equal([new HaproxyStatsRow("collectors", "a1", "UP 1/2", CheckDowns: 3, Retries: 1, Redispatches: 2, Responses5xx: 4, Requests: 50)], rows);
    }
}
