using Akka.Actor;
using AkkaCollector.Spooling;
using static AkkaCollector.Tests.Spooling.SpoolEvents;

namespace AkkaCollector.Tests.Spooling;

/// <summary>A spool taken over (SpoolRole.Drain): fenced, delivered in journal order under its own spool header, truncated, let go.</summary>
public sealed class SpoolTakeoverSpecs() : Akka.TestKit.Xunit2.TestKit(SpoolTestJournal.Config)
{
    private static readonly SpoolId Gone = new("gone", 0);
    private static readonly SpoolOptions Options = new() { Partitions = 1, TruncationInterval = TimeSpan.FromMilliseconds(10) };

    private IActorRef Start(SpoolRole role, RecordingPublisher kafka) =>
        Sys.ActorOf(SpoolPartition.For(Gone, role, Options, new SpoolStatus(1, 1L << 30), kafka, new ScriptedSpoolReader(), kafka, TestSpool.Alone));

    private void Stop(IActorRef actor)
    {
        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor);
    }

    [Fact]
    public void Should_fence_deliver_in_journal_order_truncate_and_let_go_a_spool_taken_over()
    {
        var owner = Start(SpoolRole.Own, new RecordingPublisher());
        foreach (var id in new[] { "e1", "e2", "e3" })
        {
            owner.Tell(Request(id), TestActor);
            Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        }
        Stop(owner);

        var kafka = new RecordingPublisher(confirmAtOnce: true);
        var taker = Start(SpoolRole.Drain, kafka);
        Watch(taker);

        ExpectTerminated(taker);
        Assert.Equal(["e1", "e2", "e3"], kafka.PublishedIds);
        Assert.All(kafka.Published, batch => Assert.Equal(Gone.PersistenceId, batch.Spool));
        // The owner, back, finds the fence after its three batches and nothing to deliver.
        var back = Start(SpoolRole.Own, new RecordingPublisher());
        var state = this.StateOf(back);
        Assert.Equal((4, 0, 4), (state.LastSequenceNr, state.BacklogEvents, state.TruncatedThrough));
    }

    [Fact]
    public void Should_let_a_spool_with_nothing_undelivered_go_without_writing_to_it()
    {
        var kafka = new RecordingPublisher(confirmAtOnce: true);
        var taker = Start(SpoolRole.Drain, kafka);
        Watch(taker);

        ExpectTerminated(taker);
        Assert.Empty(kafka.Published);
        var back = Start(SpoolRole.Own, new RecordingPublisher());
        Assert.Equal(0, this.StateOf(back).LastSequenceNr);
    }
}
