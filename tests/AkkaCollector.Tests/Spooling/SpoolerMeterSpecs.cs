using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using AkkaCollector.Spooling;
using Microsoft.Extensions.Time.Testing;
using static AkkaCollector.Tests.Spooling.SpoolEvents;

namespace AkkaCollector.Tests.Spooling;

/// <summary>
/// The catch-up's meter inside the spooler (invariant 4), with time in the spec's hands: the spooler's timers run on
/// Akka's TestScheduler, and the meter and the producers' last request on a FakeTimeProvider. Nothing here waits for a
/// clock; a timer fires only when the spec moves its time.
/// </summary>
public sealed class SpoolerMeterSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config TimeInTheSpecsHands = ConfigurationFactory
        .ParseString("""akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """)
        .WithFallback(SpoolTestJournal.Config);

    /// <summary>The meter's floor and what it banks at most: a quarter second of the floor.</summary>
    private const int Banked = (int)(DeliveryWindow.MeterFloor / 4);

    private readonly FakeTimeProvider _clock = new();
    private readonly RecordingPublisher _publisher = new();
    private readonly ScriptedSpoolReader _reader = new();
    private readonly TaskCompletionSource _firstReadBack = new();
    private int _handedOverBeforeTheCatchUp;

    public SpoolerMeterSpecs() : base(TimeInTheSpecsHands)
    {
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    [Fact]
    public void Should_resume_a_held_catch_up_on_its_own_timer_without_a_request_or_a_confirmation()
    {
        var spool = StartSpoolWithBacklog(events: 3_000);

        // A paced second with one request in it: the meter runs at its floor and starts with a quarter second banked.
        Scheduler.Advance(TimeSpan.FromSeconds(1));
        spool.Tell(Request("still-sending"), TestActor);
        ExpectMsg<SpoolReply>();
        Scheduler.Advance(TimeSpan.FromSeconds(1));
        HandledEverythingSent(spool);

        // The read-back comes: the catch-up hands over what the meter banked, and the meter holds the next batch.
        _reader.Held = Task.CompletedTask;
        _firstReadBack.SetResult();
        AwaitCondition(() => HandedOver() == Banked, TimeSpan.FromSeconds(10));
        HandledEverythingSent(spool);
        Assert.Equal(Banked, HandedOver());

        // A tenth of a second refills 500 events' worth. No request and no confirmation comes to ask the spooler again:
        // only the timer it set when the meter held the batch (due in a millisecond, as the debt was nil) resumes it.
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Scheduler.Advance(TimeSpan.FromMilliseconds(1));
        AwaitCondition(() => HandedOver() == Banked + 500, TimeSpan.FromSeconds(10));
        HandledEverythingSent(spool);
        Assert.Equal(Banked + 500, HandedOver());
    }

    /// <summary>
    /// A spooler with memory for about 650 events, that stored <paramref name="events"/> while Kafka confirmed nothing:
    /// the rest of them are spilled, and the catch-up's first read-back is held (<see cref="_firstReadBack"/>).
    /// </summary>
    private IActorRef StartSpoolWithBacklog(int events)
    {
        var options = new SpoolOptions
        {
            Partitions = 1,
            MemoryBytesPerPartition = 64 * 1024,
            // Windows that never bind: what holds the catch-up back here is the meter alone.
            MaxUnconfirmedEvents = 100_000,
            MaxUnconfirmedBacklogEvents = 100_000,
            CatchUpPace = 2.5,
            CommitDelay = TimeSpan.Zero,
        };
        var status = new SpoolStatus(1, 1L << 30);
        var spooler = SpoolerActor.Props(TestSpool.Id, SpoolRole.Own, options, status, _publisher, _reader, _publisher, TestSpool.Alone, _clock);
        var spool = Sys.ActorOf(SpoolPartition.Props(TestSpool.Id, SpoolRole.Own, spooler, TestSpool.Alone, status));

        _reader.Held = _firstReadBack.Task;
        // The journal as the reader finds it: every request is written alone, one sequence number each.
        var ids = Enumerable.Range(0, events).Select(i => $"e{i}").Append("still-sending").ToList();
        for (var seq = 1; seq <= ids.Count; seq++)
            _reader.Journal[seq] = new SpoolBatch([Event(ids[seq - 1])]);
        foreach (var id in ids.Take(events))
        {
            spool.Tell(Request(id), TestActor);
            ExpectMsg<SpoolReply>();
        }

        // What stayed in memory went to Kafka at once; the spilled rest waits for its first read-back.
        AwaitCondition(() => _reader.Reads.Count == 1, TimeSpan.FromSeconds(10));
        _handedOverBeforeTheCatchUp = _publisher.Published.Sum(batch => batch.Events.Count);
        Assert.InRange(_handedOverBeforeTheCatchUp, 1, events - Banked - 500 - 1);
        return spool;
    }

    /// <summary>Events of the backlog handed over since its first read-back.</summary>
    private int HandedOver() => _publisher.Published.Sum(batch => batch.Events.Count) - _handedOverBeforeTheCatchUp;

    /// <summary>The spooler has handled every message sent to it before this (timer messages included), so its own timers are set.</summary>
    private void HandledEverythingSent(IActorRef spool) => this.StateOf(spool);
}
