using AkkaCollector.Shutdown;
using AkkaCollector.Spooling;

namespace AkkaCollector.Tests.Shutdown;

public sealed class ReadinessGateTests
{
    [Fact]
    public void Should_turn_unready_while_any_spooler_is_full_and_ready_again_when_none_is()
    {
        var spool = new SpoolStatus(2, 1024);
        var gate = new ReadinessGate(spool);

        spool.ReportFull(0, true);
        spool.ReportFull(1, true);
        Assert.Equal(("spool_full", false), (gate.State, gate.IsReady));

        spool.ReportFull(0, false);
        Assert.False(gate.IsReady);

        spool.ReportFull(1, false);
        Assert.Equal(("ready", true), (gate.State, gate.IsReady));
    }

    [Fact]
    public void Should_stay_unready_for_good_once_draining_even_when_the_spool_empties()
    {
        var spool = new SpoolStatus(1, 1024);
        var gate = new ReadinessGate(spool);
        spool.ReportFull(0, true);

        gate.MarkDraining();
        spool.ReportFull(0, false);

        Assert.Equal(("draining", false), (gate.State, gate.IsReady));
    }
}
