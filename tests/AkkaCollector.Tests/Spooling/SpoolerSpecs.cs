using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using AkkaCollector.Observability;
using AkkaCollector.Shutdown;
using AkkaCollector.Spooling;
using AkkaCollector.Tests.Shutdown;
using Microsoft.Extensions.Time.Testing;
using static AkkaCollector.Tests.Spooling.SpoolEvents;

namespace AkkaCollector.Tests.Spooling;

/// <summary>The spooler's promises, against Akka.Persistence.TestKit's TestJournal (which can delay, fail and reject writes).</summary>
public sealed class SpoolerSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestJournal _journal;
    private readonly SpoolStatus _status = new(1, 1L << 30);

    public SpoolerSpecs() : base(SpoolTestJournal.Config)
    {
        _journal = TestJournal.FromRef(Persistence.Instance.Apply(Sys).JournalFor(null));
    }

    private static SpoolOptions Options(Action<SpoolOptions>? change = null)
    {
        var options = new SpoolOptions { Partitions = 1 };
        change?.Invoke(options);
        return options;
    }

    private IActorRef StartSpool(RecordingPublisher publisher, SpoolOptions? options = null, ISpoolReader? reader = null, string? name = null) =>
        Sys.ActorOf(SpoolPartition.For(TestSpool.Id, SpoolRole.Own, options ?? Options(), _status, publisher, reader ?? new ScriptedSpoolReader(), publisher, TestSpool.Alone), name);

    [Fact]
    public async Task Should_answer_stored_only_after_the_journal_write_has_completed()
    {
        var writes = new HeldWrites();
        await _journal.OnWrite.SetInterceptorAsync(writes);
        var spool = StartSpool(new RecordingPublisher());

        spool.Tell(Request("a"), TestActor);

        await writes.Arrived.WaitAsync(TimeSpan.FromSeconds(5));
        // Held, the write cannot complete: any answer now would have come before it.
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        writes.Release();
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task Should_keep_readiness_at_starting_until_the_spooler_has_recovered_its_journal()
    {
        var publisher = new RecordingPublisher();
        var before = Watch(StartSpool(publisher));
        before.Tell(Request("stored before the restart"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        Sys.Stop(before);
        ExpectTerminated(before);
        // A journal still starting (the story's slow PostgreSQL): its replay of what is stored is held.
        var replays = new HeldWrites();
        await _journal.OnRecovery.SetInterceptorAsync(replays);
        var status = new SpoolStatus(1, 1L << 30, ownSpoolers: 1);
        var readiness = new ReadinessGate(status);

        Sys.ActorOf(SpoolPartition.For(TestSpool.Id, SpoolRole.Own, Options(), status, publisher, new ScriptedSpoolReader(), publisher, TestSpool.Alone));

        await replays.Arrived.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(("starting", false), readiness.Answer());
        replays.Release();
        await AwaitConditionAsync(() => Task.FromResult(readiness.IsReady), TimeSpan.FromSeconds(5));
        Assert.Equal("ready", readiness.State);
    }

    [Fact]
    public async Task Should_answer_503_for_a_failed_write_and_store_again_once_the_journal_recovers()
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher);
        spool.Tell(Request("before"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());

        await _journal.OnWrite.Fail();
        spool.Tell(Request("during"), TestActor);
        Assert.Equal(SpoolReply.Failed, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(3)));

        await _journal.OnWrite.Pass();
        await AwaitAssertAsync(() =>
        {
            spool.Tell(Request("after"), TestActor);
            Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(1)));
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));

        // The restarted spooler replayed the journal: "before" is delivered again, "during" never was stored.
        await AwaitAssertAsync(() => Assert.Contains("after", publisher.PublishedIds));
        Assert.DoesNotContain("during", publisher.PublishedIds);
        Assert.Contains("before", publisher.PublishedIds);
    }

    [Fact]
    public async Task Should_keep_readiness_unready_from_a_failed_write_until_the_restarted_spooler_has_recovered()
    {
        var status = new SpoolStatus(1, 1L << 30, ownSpoolers: 1);
        var readiness = new ReadinessGate(status);
        var publisher = new RecordingPublisher();
        var spool = Sys.ActorOf(SpoolPartition.For(TestSpool.Id, SpoolRole.Own, Options(), status, publisher, new ScriptedSpoolReader(), publisher, TestSpool.Alone));
        spool.Tell(Request("before"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        Assert.Equal(("ready", true), readiness.Answer());
        // The journal is still failing when the spooler is started again: its replay is held.
        var replays = new HeldWrites();
        await _journal.OnRecovery.SetInterceptorAsync(replays);

        await _journal.OnWrite.Fail();
        spool.Tell(Request("during"), TestActor);
        Assert.Equal(SpoolReply.Failed, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(3)));

        await replays.Arrived.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(("spooler_restarting", false), readiness.Answer());
        await _journal.OnWrite.Pass();
        replays.Release();
        await AwaitConditionAsync(() => Task.FromResult(readiness.IsReady), TimeSpan.FromSeconds(5));
        Assert.Equal("ready", readiness.State);
        spool.Tell(Request("after"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task Should_answer_503_for_a_rejected_write_and_keep_the_same_spooler_running()
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher);

        await _journal.OnWrite.Reject();
        spool.Tell(Request("rejected"), TestActor);
        Assert.Equal(SpoolReply.Failed, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(3)));

        await _journal.OnWrite.Pass();
        spool.Tell(Request("accepted"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(3)));
        Assert.Equal(["accepted"], publisher.PublishedIds);
    }

    [Fact]
    public void Should_replay_every_undelivered_event_in_order_after_a_restart()
    {
        var spool = StartSpool(new RecordingPublisher());
        foreach (var id in new[] { "e1", "e2", "e3" })
        {
            spool.Tell(Request(id), TestActor);
            Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        }
        Watch(spool);
        Sys.Stop(spool);
        ExpectTerminated(spool);

        var afterRestart = new RecordingPublisher();
        StartSpool(afterRestart);

        AwaitAssert(() => Assert.Equal(["e1", "e2", "e3"], afterRestart.PublishedIds));
    }

    [Fact]
    public void Should_truncate_delivered_batches_so_a_restart_replays_only_the_undelivered_ones()
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher);

        DeliverOnlyTheFirst(spool, publisher, Request("delivered"), Request("pending"));
        AwaitAssert(() =>
        {
            Assert.Equal(1, this.StateOf(spool).TruncatedThrough);
        });
        Watch(spool);
        Sys.Stop(spool);
        ExpectTerminated(spool);

        var afterRestart = new RecordingPublisher();
        StartSpool(afterRestart);
        AwaitAssert(() => Assert.Equal(["pending"], afterRestart.PublishedIds));
    }

    [Fact]
    public void Should_truncate_at_once_when_shutdown_asks_instead_of_waiting_for_the_pacing_interval()
    {
        var publisher = new RecordingPublisher(confirmAtOnce: true);
        var spool = StartSpool(publisher, Options(o => o.TruncationInterval = TimeSpan.FromMinutes(10)));
        spool.Tell(Request("e1"), TestActor);
        ExpectMsg<SpoolReply>();
        AwaitAssert(() =>
        {
            Assert.Equal(1, this.StateOf(spool).DeliveredThrough);
        });

        spool.Tell(TruncateNow.Instance, TestActor);

        Assert.Equal(new Truncated(1), ExpectMsg<Truncated>());
        Assert.Equal(1, this.StateOf(spool).TruncatedThrough);
    }

    [Fact]
    public void Should_answer_a_truncation_request_at_once_when_nothing_was_delivered()
    {
        var spool = StartSpool(new RecordingPublisher());
        spool.Tell(Request("undelivered"), TestActor);
        ExpectMsg<SpoolReply>();

        spool.Tell(TruncateNow.Instance, TestActor);

        Assert.Equal(new Truncated(0), ExpectMsg<Truncated>());
    }

    [Fact]
    public async Task Should_group_the_requests_that_arrive_during_a_write_into_the_next_write()
    {
        var writes = new HeldWrites();
        await _journal.OnWrite.SetInterceptorAsync(writes);
        var publisher = new RecordingPublisher(confirmAtOnce: true);
        var spool = StartSpool(publisher, Options(o => o.MaxWritesInFlight = 1));

        spool.Tell(Request("e0"), TestActor);
        await writes.Arrived.WaitAsync(TimeSpan.FromSeconds(5));
        // The first write is held in the journal: the 49 requests below all arrive while it is in flight.
        for (var i = 1; i < 50; i++)
            spool.Tell(Request($"e{i}"), TestActor);
        // The partition forwards to its spooler in order: once the spooler answers this, it holds all 49 (on a busy
        // machine some were still being forwarded when the write was released, and formed a third write).
        this.StateOf(spool);
        writes.Release();
        for (var i = 0; i < 50; i++)
            Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(5)));

        // The first request is written alone; the 49 that queued behind it share the next journal write.
        AwaitAssert(() => Assert.Equal(50, publisher.PublishedIds.Count));
        Assert.Equal(2, publisher.Published.Count);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"e{i}"), publisher.PublishedIds);
    }

    [Fact]
    public async Task Should_hold_a_write_of_fewer_events_than_the_commit_delay_asks_for_until_the_delay_has_passed()
    {
        // The delay runs on the spooler's clock, here the spec's: it passes only when the spec moves that clock.
        var clock = new TimersSetClock();
        var writes = new HeldWrites();
        await _journal.OnWrite.SetInterceptorAsync(writes);
        var publisher = new RecordingPublisher(confirmAtOnce: true);
        var options = Options(o => (o.CommitDelay, o.CommitDelayBelowEvents) = (TimeSpan.FromMilliseconds(100), 5));
        var spool = Sys.ActorOf(SpoolerActor.Props(TestSpool.Id, SpoolRole.Own, options, _status, publisher, new ScriptedSpoolReader(), publisher, TestSpool.Alone, clock));

        // Five events reach the bound: written at once, and held in the journal while a small request queues behind them.
        spool.Tell(Request("b0", "b1", "b2", "b3", "b4"), TestActor);
        await writes.Arrived.WaitAsync(TimeSpan.FromSeconds(5));
        spool.Tell(Request("small"), TestActor);
        writes.Release();
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(5)));

        // The spooler answers this after the callback that answered the first write has run to its end: the small request
        // waits for the one timer that callback set, due in the delay, and for nothing else.
        Assert.Equal(1, this.StateOf(spool).LastSequenceNr);
        Assert.Equal([TimeSpan.FromMilliseconds(100)], clock.DueTimes);

        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(5)));
        Assert.Equal(2, this.StateOf(spool).LastSequenceNr);
        AwaitAssert(() => Assert.Equal(6, publisher.PublishedIds.Count));
        Assert.Equal(2, publisher.Published.Count);
    }

    [Fact]
    public void Should_store_a_retried_request_once_and_still_answer_it_stored()
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher, Options(o => o.DedupWindow = 100));
        spool.Tell(Request("a", "b"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        var dropped = DuplicatesDropped();

        spool.Tell(Request("a", "b"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        spool.Tell(Request("b", "c"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());

        AwaitAssert(() => Assert.Equal(["a", "b", "c"], publisher.PublishedIds));
        Assert.Equal(3, DuplicatesDropped() - dropped);
        Assert.Equal(2, this.StateOf(spool).LastSequenceNr);
    }

    [Fact]
    public async Task Should_answer_a_retry_only_once_the_first_copys_write_has_completed()
    {
        var writes = new HeldWrites();
        await _journal.OnWrite.SetInterceptorAsync(writes);
        var (publisher, spool, firstCopy) = await SendFirstCopyAsync(writes.Arrived);

        spool.Tell(Request("a"), TestActor);

        // The first copy's write is held: a Stored for the retry now would promise what is not on disk yet.
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        writes.Release();
        Assert.Equal(SpoolReply.Stored, firstCopy.ExpectMsg<SpoolReply>());
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        AwaitAssert(() => Assert.Equal(["a"], publisher.PublishedIds));
    }

    [Fact]
    public async Task Should_write_the_retry_when_the_first_copys_write_was_rejected()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writes = 0;
        await _journal.OnWrite.RejectIf(async _ =>
        {
            if (Interlocked.Increment(ref writes) > 1)
                return false;
            arrived.TrySetResult();
            await released.Task;
            return true;
        });
        var (publisher, spool, firstCopy) = await SendFirstCopyAsync(arrived.Task);

        spool.Tell(Request("a"), TestActor);
        released.SetResult();

        Assert.Equal(SpoolReply.Failed, firstCopy.ExpectMsg<SpoolReply>());
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        AwaitAssert(() => Assert.Equal(["a"], publisher.PublishedIds));
    }

    [Fact]
    public void Should_remember_the_replayed_ids_after_a_restart()
    {
        var options = Options(o => o.DedupWindow = 100);
        var spool = StartSpool(new RecordingPublisher(), options);
        spool.Tell(Request("a"), TestActor);
        ExpectMsg<SpoolReply>();
        Watch(spool);
        Sys.Stop(spool);
        ExpectTerminated(spool);

        var afterRestart = new RecordingPublisher();
        var restarted = StartSpool(afterRestart, options);
        restarted.Tell(Request("a"), TestActor);

        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        AwaitAssert(() => Assert.Equal(["a"], afterRestart.PublishedIds));
        Assert.Equal(1, this.StateOf(restarted).LastSequenceNr);
    }

    [Fact]
    public void Should_not_send_again_after_a_restart_what_kafka_confirmed_before_the_journal_was_truncated()
    {
        // Truncation never comes: the restart replays both batches, as after a kill -9 within the pacing interval.
        var options = Options(o => o.TruncationInterval = TimeSpan.FromMinutes(10));
        var before = new RecordingPublisher(confirmAtOnce: true);
        var spool = StartSpool(before, options);
        foreach (var id in new[] { "a", "b" })
        {
            spool.Tell(Request(id), TestActor);
            Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
            AwaitAssert(() => Assert.Contains(id, before.Topic.MessageIds));
        }
        Watch(spool);
        Sys.Stop(spool);
        ExpectTerminated(spool);
        var avoided = CollectorMetrics.RecoveryDuplicatesAvoided.Value;

        var after = new RecordingPublisher(confirmAtOnce: true, before.Topic);
        var restarted = StartSpool(after, options);
        restarted.Tell(Request("c"), TestActor);
        Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());

        // "a" is below the delivered cursor "b"'s write recorded; "b" was confirmed after it and is found by reading back.
        AwaitAssert(() => Assert.Equal(["a", "b", "c"], after.Topic.MessageIds));
        Assert.Equal(["c"], after.PublishedIds);
        Assert.Equal(1, CollectorMetrics.RecoveryDuplicatesAvoided.Value - avoided);
        Assert.Equal([1L], after.Topic.ReadsFrom.TakeLast(1).Cast<long>());
    }

    [Fact]
    public void Should_not_send_again_after_a_second_restart_what_kafka_got_before_the_first()
    {
        var options = Options(o => o.TruncationInterval = TimeSpan.FromMinutes(10));
        var first = new RecordingPublisher();
        var spool = StartSpool(first, options);
        spool.Tell(Request("x"), TestActor);
        ExpectMsg<SpoolReply>();
        spool.Tell(Request("y", "z"), TestActor);
        ExpectMsg<SpoolReply>();
        AwaitCondition(() => first.Published.Count == 2);
        // "x" is not answered; "y" reached Kafka before its batch failed. Then the first crash.
        first.Published.Last().FailAfterWriting(1, "Local_MsgTimedOut");
        Restart(spool);

        // One event handed over at a time: the replayed "y z" goes out only after Kafka confirmed "x".
        var oneAtATime = Options(o => (o.TruncationInterval, o.MaxUnconfirmedEvents) = (TimeSpan.FromMinutes(10), 1));
        var second = new RecordingPublisher(topic: first.Topic);
        spool = StartSpool(second, oneAtATime);
        AwaitCondition(() => second.Published.Count == 1);
        second.Published.First().Confirm();
        AwaitCondition(() => second.Published.Count == 2);
        spool.Tell(Request("w"), TestActor);
        ExpectMsg<SpoolReply>();
        Restart(spool);

        var third = new RecordingPublisher(confirmAtOnce: true, first.Topic);
        StartSpool(third, oneAtATime);

        AwaitAssert(() => Assert.Equal(["y", "x", "z", "w"], third.Topic.MessageIds));
        Assert.Equal(["z", "w"], third.PublishedIds);
        Assert.Equal(["x", "z"], second.PublishedIds);
    }

    [Fact]
    public void Should_send_after_a_restart_an_event_whose_messageId_only_another_app_has_in_kafka()
    {
        var after = RestartAfterDeliveringOnlyTheFirst(new Enqueue([Event("same-id") with { WriteKey = "other-app" }]), Request("same-id"));

        AwaitAssert(() => Assert.Equal(["same-id", "same-id"], after.Topic.MessageIds));
        Assert.Equal("write-key", Assert.Single(after.Published.SelectMany(p => p.Events)).WriteKey);
    }

    [Fact]
    public void Should_not_send_again_after_a_restart_what_another_spool_stored_from_a_replay_and_delivered_meanwhile()
    {
        var avoided = CollectorMetrics.RecoveryDuplicatesAvoided.Value;

        // "b" and "c" were stored, and the collector killed before its answer left: the load balancer replayed the
        // request on another collector, whose spool delivered both; "d" of another app only shares an id with one.
        var after = RestartAfterDeliveringOnlyTheFirst(Request("a"), Request("b", "c", "d"), meanwhile: topic =>
            topic.Append("spool-other-0", [Event("b"), Event("c"), Event("d") with { WriteKey = "other-app" }]));

        AwaitAssert(() => Assert.Equal(["a", "b", "c", "d", "d"], after.Topic.MessageIds));
        Assert.Equal(["d"], after.PublishedIds);
        // "a" under this spool's own header (the journal's newest mark predates its confirmation), "b" and "c" under the other's.
        Assert.Equal(3, CollectorMetrics.RecoveryDuplicatesAvoided.Value - avoided);
    }

    [Fact]
    public void Should_send_again_after_a_restart_what_kafka_had_not_confirmed()
    {
        var after = RestartAfterDeliveringOnlyTheFirst(Request("a"), Request("b"));

        AwaitAssert(() => Assert.Equal(["a", "b"], after.Topic.MessageIds));
        Assert.Equal(["b"], after.PublishedIds);
    }

    /// <summary>A spooler with a de-duplication window, and event "a" sent to it by another requester, whose write has reached the journal.</summary>
    private async Task<(RecordingPublisher Publisher, IActorRef Spool, Akka.TestKit.TestProbe FirstCopy)> SendFirstCopyAsync(Task writeArrived)
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher, Options(o => o.DedupWindow = 100));
        var firstCopy = CreateTestProbe();
        spool.Tell(Request("a"), firstCopy);
        await writeArrived.WaitAsync(TimeSpan.FromSeconds(5));
        return (publisher, spool, firstCopy);
    }

    /// <summary>Stores two requests in two writes, waits until both are handed to Kafka, and has Kafka confirm only the first.</summary>
    private void DeliverOnlyTheFirst(IActorRef spool, RecordingPublisher publisher, Enqueue first, Enqueue second)
    {
        spool.Tell(first, TestActor);
        ExpectMsg<SpoolReply>();
        spool.Tell(second, TestActor);
        ExpectMsg<SpoolReply>();
        AwaitCondition(() => publisher.Published.Count == 2);
        publisher.Published.First().Confirm();
    }

    /// <summary>
    /// Kafka confirms the first of two requests, the spooler stops before the journal is truncated (as a kill -9 would
    /// leave it), and a new one starts on the same journal and topic; returns the new one's publisher, confirming at once.
    /// </summary>
    private RecordingPublisher RestartAfterDeliveringOnlyTheFirst(Enqueue first, Enqueue second, Action<RecordingTopic>? meanwhile = null)
    {
        var options = Options(o => o.TruncationInterval = TimeSpan.FromMinutes(10));
        var before = new RecordingPublisher();
        var spool = StartSpool(before, options);
        DeliverOnlyTheFirst(spool, before, first, second);
        Watch(spool);
        Sys.Stop(spool);
        ExpectTerminated(spool);
        meanwhile?.Invoke(before.Topic);

        var after = new RecordingPublisher(confirmAtOnce: true, before.Topic);
        StartSpool(after, options);
        return after;
    }

    /// <summary>Stops a spooler as a kill -9 would leave its journal (the test starts the next one).</summary>
    private void Restart(IActorRef spool)
    {
        Watch(spool);
        Sys.Stop(spool);
        ExpectTerminated(spool);
    }

    private static double DuplicatesDropped() => CollectorMetrics.EventsDropped.WithLabels(CollectorMetrics.DropCause.Duplicate).Value;

    [Fact]
    public void Should_answer_full_and_store_nothing_once_the_byte_bound_is_reached()
    {
        var publisher = new RecordingPublisher();
        // Each test event carries 100 payload bytes: room for exactly three.
        var spool = StartSpool(publisher, Options(o => o.MaxBytes = 300));

        foreach (var id in new[] { "e1", "e2", "e3" })
        {
            spool.Tell(Request(id), TestActor);
            Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        }
        spool.Tell(Request("e4"), TestActor);

        Assert.Equal(SpoolReply.Full, ExpectMsg<SpoolReply>());
        Assert.True(_status.IsFull);
        Assert.Equal(3, this.StateOf(spool).BacklogEvents);
    }

    [Fact]
    public void Should_accept_again_once_kafka_confirms_what_filled_the_spool()
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher, Options(o => o.MaxBytes = 200));
        spool.Tell(Request("e1", "e2"), TestActor);
        ExpectMsg<SpoolReply>();
        spool.Tell(Request("e3"), TestActor);
        Assert.Equal(SpoolReply.Full, ExpectMsg<SpoolReply>());

        AwaitCondition(() => publisher.Published.Count == 1);
        publisher.Published.Single().Confirm();

        AwaitAssert(() =>
        {
            spool.Tell(Request("e3"), TestActor);
            Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>());
        });
        Assert.False(_status.IsFull);
    }

    [Fact]
    public void Should_send_a_batch_again_when_kafka_reports_it_failed()
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher);
        spool.Tell(Request("e1"), TestActor);
        ExpectMsg<SpoolReply>();
        AwaitCondition(() => publisher.Published.Count == 1);

        publisher.Published.Single().Fail("Local_MsgTimedOut");

        AwaitCondition(() => publisher.Published.Count == 2, TimeSpan.FromSeconds(5));
        Assert.Equal(["e1", "e1"], publisher.PublishedIds);
    }

    [Fact]
    public void Should_send_again_only_the_part_of_a_failed_batch_that_kafka_does_not_hold()
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher);
        spool.Tell(Request("e1", "e2", "e3"), TestActor);
        ExpectMsg<SpoolReply>();
        AwaitCondition(() => publisher.Published.Count == 1);

        publisher.Published.Single().FailAfterWriting(2, "Local_MsgTimedOut");

        AwaitCondition(() => publisher.Published.Count == 2, TimeSpan.FromSeconds(5));
        Assert.Equal(["e3"], publisher.Published.Last().Events.Select(e => e.MessageId));
        publisher.Published.Last().Confirm();
        AwaitAssert(() => Assert.Equal(["e1", "e2", "e3"], publisher.Topic.MessageIds));
    }

    [Fact]
    public void Should_keep_spilled_batches_out_of_memory_and_read_them_back_in_order()
    {
        var publisher = new RecordingPublisher();
        var reader = new ScriptedSpoolReader();
        // Memory for about 650 of the 700 100-byte events; the unconfirmed window holds ten at a time.
        var spool = StartSpool(publisher, Options(o => { o.MemoryBytesPerPartition = 64 * 1024; o.MaxUnconfirmedEvents = 10; }), reader);
        var ids = Enumerable.Range(0, 700).Select(i => $"e{i}").ToList();
        foreach (var id in ids)
        {
            spool.Tell(Request(id), TestActor);
            ExpectMsg<SpoolReply>();
        }
        for (var seq = 1; seq <= ids.Count; seq++)
            reader.Journal[seq] = new SpoolBatch([Event(ids[seq - 1])]);

        Assert.True(this.StateOf(spool).MemoryBytes <= 64 * 1024);

        // Confirm each batch as it comes; the spooler must walk through memory, then the journal, in order.
        var delivered = 0;
        AwaitCondition(() =>
        {
            while (publisher.Published.TryDequeue(out var batch))
            {
                Assert.Equal(ids[delivered], batch.Events.Single().MessageId);
                delivered++;
                batch.Confirm();
            }
            return delivered == ids.Count;
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(5));
        Assert.NotEmpty(reader.Reads);
    }

    [Fact]
    public void Should_pace_a_catch_up_to_its_smaller_window_while_producers_are_sending()
    {
        // No pace asked for: the catch-up's window stays at MaxUnconfirmedBacklogEvents.
        var (_, publisher, paced) = StartCatchUp(catchUpPace: 0);
        Thread.Sleep(300);
        paced.AddRange(TakePublished(publisher));
        Assert.Equal(5, paced.Count);

        // Producers quiet for over a second: the catch-up gets the large window again.
        Thread.Sleep(1200);
        foreach (var batch in paced)
            batch.Confirm();
        AwaitCondition(() => publisher.Published.Count > 5, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Should_widen_a_catch_up_window_while_the_backlog_falls_behind_its_pace()
    {
        var (spool, publisher, _) = StartCatchUp(catchUpPace: 2);

        // Producers keep sending and Kafka confirms nothing: the catch-up delivers less than twice what they store, so
        // within a second or two its window widens and more of the backlog is handed over, without a confirmation.
        using var live = LiveIds.GetEnumerator();
        AwaitCondition(() =>
        {
            spool.Tell(Request(live.MoveNext() ? live.Current : throw new InvalidOperationException("out of live ids")), TestActor);
            ExpectMsg<SpoolReply>();
            return !publisher.Published.IsEmpty;
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Requests a producer sends during a catch-up, one at a time.</summary>
    private static readonly IEnumerable<string> LiveIds = Enumerable.Range(0, 200).Select(i => $"live-{i}");

    /// <summary>
    /// A spooler whose journal holds 700 events of which about 50 were spilled; Kafka has confirmed the rest, a
    /// producer is still sending, and the catch-up has handed over its first window of 5 events (returned unconfirmed).
    /// </summary>
    private (IActorRef Spool, RecordingPublisher Publisher, List<PublishedBatch> Paced) StartCatchUp(double catchUpPace)
    {
        var publisher = new RecordingPublisher();
        var reader = new ScriptedSpoolReader();
        // Memory for about 650 of the 700 events: the rest is spilled, i.e. a catch-up once Kafka takes them.
        var spool = StartSpool(publisher, Options(o =>
        {
            o.MemoryBytesPerPartition = 64 * 1024;
            o.MaxUnconfirmedEvents = 1000;
            o.MaxUnconfirmedBacklogEvents = 5;
            o.CatchUpPace = catchUpPace;
        }), reader);
        // The journal as the reader finds it: every request below is written alone, one sequence number each.
        var ids = Enumerable.Range(0, 700).Select(i => $"e{i}").Append("still-sending").Concat(LiveIds).ToList();
        for (var seq = 1; seq <= ids.Count; seq++)
            reader.Journal[seq] = new SpoolBatch([Event(ids[seq - 1])]);
        foreach (var id in ids.Take(700))
        {
            spool.Tell(Request(id), TestActor);
            ExpectMsg<SpoolReply>();
        }

        // What stayed in memory is live traffic: handed over at once, in the large window.
        AwaitCondition(() => publisher.Published.Count > 600, TimeSpan.FromSeconds(10));
        var live = TakePublished(publisher);
        Assert.InRange(live.Count, 601, 699);

        // Kafka confirms it while a producer keeps sending: the spilled rest comes five at a time.
        spool.Tell(Request("still-sending"), TestActor);
        ExpectMsg<SpoolReply>();
        foreach (var batch in live)
            batch.Confirm();
        AwaitCondition(() => publisher.Published.Count >= 5, TimeSpan.FromSeconds(10));
        return (spool, publisher, TakePublished(publisher));
    }

    private static List<PublishedBatch> TakePublished(RecordingPublisher publisher)
    {
        var taken = new List<PublishedBatch>();
        while (publisher.Published.TryDequeue(out var batch))
            taken.Add(batch);
        return taken;
    }

    /// <summary>A fake clock that remembers when each timer set on it is due.</summary>
    private sealed class TimersSetClock : FakeTimeProvider
    {
        public ConcurrentQueue<TimeSpan> DueTimes { get; } = new();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            DueTimes.Enqueue(dueTime);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
