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
        Assert.Equal(("spool_full", false), gate.Answer());

        spool.ReportFull(0, false);
        Assert.False(gate.IsReady);

        spool.ReportFull(1, false);
        Assert.Equal(("ready", true), gate.Answer());
    }

    [Fact]
    public void Should_answer_starting_until_every_own_spooler_has_recovered_its_journal_once()
    {
        var spool = new SpoolStatus(4, 1024, ownSpoolers: 2);
        var gate = new ReadinessGate(spool);
        Assert.Equal(("starting", false), gate.Answer());

        spool.ReportRecovered(0);
        // A spooler restarted after a journal failure recovers again: that is not the other spooler's start.
        spool.ReportRecovered(0);
        Assert.Equal(("starting", false), gate.Answer());

        spool.ReportRecovered(1);
        Assert.Equal(("ready", true), gate.Answer());
    }

    [Fact]
    public void Should_turn_unready_while_a_stopped_spooler_restarts_and_ready_again_once_it_has_recovered()
    {
        var spool = new SpoolStatus(4, 1024, ownSpoolers: 2);
        var gate = new ReadinessGate(spool);
        spool.ReportRecovered(0);
        spool.ReportRecovered(1);

        spool.ReportStopped(1);
        Assert.Equal(("spooler_restarting", false), gate.Answer());
        // Its restarted spooler's recovery failed too: still one spooler down, not two.
        spool.ReportStopped(1);
        spool.ReportRecovered(0);
        Assert.Equal(("spooler_restarting", false), gate.Answer());

        spool.ReportRecovered(1);
        Assert.Equal(("ready", true), gate.Answer());
    }

    [Fact]
    public void Should_stay_unready_for_good_once_draining_even_when_the_spool_empties()
    {
        var spool = new SpoolStatus(1, 1024);
        var gate = new ReadinessGate(spool);
        spool.ReportFull(0, true);

        gate.MarkDraining();
        spool.ReportFull(0, false);

        Assert.Equal(("draining", false), gate.Answer());
    }
}
