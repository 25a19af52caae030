using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using Microsoft.Extensions.Time.Testing;
using static AkkaCollector.Tests.Spooling.SpoolEvents;

namespace AkkaCollector.Tests.Spooling;

/// <summary>The spooler's delivery bookkeeping on its own: order, the window, spill and read-back, the delivered cursor.</summary>
public sealed class DeliveryWindowTests
{
    private const int EventBytes = 100;

    private static SpoolBatch Batch(int events) =>
        new(Enumerable.Range(0, events).Select(i => Event($"e{i}", EventBytes)).ToList());

    private static DeliveryWindow Window(long memoryBytes = 1_000_000, long liveWindow = 100, long backlogWindow = 100, double catchUpPace = 0, TimeProvider? clock = null) =>
        new(memoryBytes, liveWindow, backlogWindow, catchUpPace, clock ?? new FakeTimeProvider());

    /// <summary>A window whose first <paramref name="spilled"/> batches of 10 events were spilled and are read back, ready to hand over.</summary>
    private static DeliveryWindow CatchingUp(int spilled, long liveWindow = 1000, long backlogWindow = 100, double catchUpPace = 2, TimeProvider? clock = null)
    {
        var window = Window(memoryBytes: 0, liveWindow, backlogWindow, catchUpPace, clock);
        var batches = Enumerable.Range(1, spilled).Select(sequenceNr => ((long)sequenceNr, Batch(10))).ToList();
        foreach (var (sequenceNr, batch) in batches)
            window.Append(sequenceNr, batch);
        window.Next(producersActive: true, KafkaPositions.None);
        window.ReadBackCompleted(batches);
        return window;
    }

    /// <summary>Hands over what the window allows while producers send, and Kafka confirms it all.</summary>
    private static int DeliverWhatFits(DeliveryWindow window)
    {
        var handedOver = HandOverAll(window, producersActive: true);
        foreach (var sequenceNr in handedOver)
            window.Confirmed(sequenceNr);
        return handedOver.Count * 10;
    }

    /// <summary>Every hand-over the window allows now; stops at (and consumes) anything else.</summary>
    private static List<long> HandOverAll(DeliveryWindow window, bool producersActive = false)
    {
        var handedOver = new List<long>();
        while (window.Next(producersActive, KafkaPositions.None) is DeliveryStep.HandOver handOver)
            handedOver.Add(handOver.Batch.SequenceNr);
        return handedOver;
    }

    [Fact]
    public void Should_hand_batches_over_in_journal_order_until_the_window_is_full()
    {
        var window = Window(liveWindow: 25);
        for (var sequenceNr = 1; sequenceNr <= 5; sequenceNr++)
            window.Append(sequenceNr, Batch(10));

        Assert.Equal([1L, 2L, 3L], HandOverAll(window));
        Assert.Equal(30, window.UnconfirmedEvents);
    }

    [Fact]
    public void Should_hand_over_more_once_Kafka_confirms()
    {
        var window = Window(liveWindow: 10);
        window.Append(1, Batch(10));
        window.Append(2, Batch(10));
        Assert.Equal([1L], HandOverAll(window));

        Assert.Equal(10, window.Confirmed(1));

        Assert.Equal([2L], HandOverAll(window));
    }

    [Fact]
    public void Should_advance_the_delivered_cursor_only_over_an_unbroken_run_of_confirmed_batches()
    {
        var window = Window();
        for (var sequenceNr = 1; sequenceNr <= 3; sequenceNr++)
            window.Append(sequenceNr, Batch(1));
        HandOverAll(window);

        window.Confirmed(2);
        Assert.Equal(0, window.DeliveredThrough);
        Assert.Equal(3, window.BacklogEvents);

        window.Confirmed(1);
        Assert.Equal(2, window.DeliveredThrough);
        Assert.Equal(1, window.BacklogEvents);
        Assert.Equal(EventBytes, window.BacklogBytes);
    }

    [Fact]
    public void Should_ignore_a_confirmation_for_a_batch_it_no_longer_tracks()
    {
        var window = Window();
        window.Append(1, Batch(1));
        HandOverAll(window);
        window.Confirmed(1);

        Assert.Null(window.Confirmed(1));
        Assert.Null(window.Unconfirmed(1));
        Assert.Equal(0, window.UnconfirmedEvents);
    }

    [Fact]
    public void Should_spill_batches_past_the_memory_budget_and_read_them_back_before_handing_them_over()
    {
        var window = Window(memoryBytes: 2 * EventBytes);
        window.Append(1, Batch(2));
        window.Append(2, Batch(1));
        window.Append(3, Batch(1));
        Assert.Equal(2 * EventBytes, window.MemoryBytes);

        Assert.Equal(1, Assert.IsType<DeliveryStep.HandOver>(window.Next(producersActive: false, KafkaPositions.None)).Batch.SequenceNr);
        var readBack = Assert.IsType<DeliveryStep.ReadBack>(window.Next(producersActive: false, KafkaPositions.None));
        Assert.Equal((2L, 2L), (readBack.From, readBack.To));
        Assert.Null(window.Next(producersActive: false, KafkaPositions.None));

        window.ReadBackCompleted([(2, Batch(1))]);
        Assert.Equal([2L], HandOverAll(window));
    }

    [Fact]
    public void Should_read_back_a_run_of_spilled_batches_worth_at_most_half_the_memory_budget()
    {
        var window = Window(memoryBytes: 4 * EventBytes);
        window.Append(1, Batch(4));
        for (var sequenceNr = 2; sequenceNr <= 6; sequenceNr++)
            window.Append(sequenceNr, Batch(1));
        Assert.IsType<DeliveryStep.HandOver>(window.Next(producersActive: false, KafkaPositions.None));

        var readBack = Assert.IsType<DeliveryStep.ReadBack>(window.Next(producersActive: false, KafkaPositions.None));

        Assert.Equal((2L, 3L), (readBack.From, readBack.To));
    }

    [Fact]
    public void Should_read_the_next_batch_back_while_the_window_is_still_full()
    {
        var window = Window(memoryBytes: EventBytes, liveWindow: 1);
        window.Append(1, Batch(1));
        window.Append(2, Batch(1));
        Assert.IsType<DeliveryStep.HandOver>(window.Next(producersActive: false, KafkaPositions.None));

        var readBack = Assert.IsType<DeliveryStep.ReadBack>(window.Next(producersActive: false, KafkaPositions.None));

        Assert.Equal((2L, 2L), (readBack.From, readBack.To));
    }

    [Fact]
    public void Should_read_the_next_run_back_while_the_one_before_it_is_still_handed_over_once_memory_has_room_for_it()
    {
        var window = Window(memoryBytes: 4 * EventBytes, liveWindow: 1);
        for (var sequenceNr = 1; sequenceNr <= 6; sequenceNr++)
            window.Append(sequenceNr, Batch(1));
        Assert.Equal([1L], HandOverAll(window));

        // Batches 2 to 4 wait in memory; a run of 5 and 6 would pass the budget with them.
        Assert.Null(window.Next(producersActive: false, KafkaPositions.None));
        window.Confirmed(1);
        Assert.Equal([2L], HandOverAll(window));
        Assert.Null(window.Next(producersActive: false, KafkaPositions.None));

        // Half the budget is free: the next run is read while batch 4 is still to be handed over.
        window.Confirmed(2);
        Assert.IsType<DeliveryStep.HandOver>(window.Next(producersActive: false, KafkaPositions.None));
        var readBack = Assert.IsType<DeliveryStep.ReadBack>(window.Next(producersActive: false, KafkaPositions.None));
        Assert.Equal((5L, 6L), (readBack.From, readBack.To));
        Assert.Null(window.Next(producersActive: false, KafkaPositions.None));

        window.ReadBackCompleted([(5, Batch(1)), (6, Batch(1))]);
        window.Confirmed(3);
        Assert.Equal([4L], HandOverAll(window));
        window.Confirmed(4);
        Assert.Equal([5L], HandOverAll(window));
    }

    [Fact]
    public void Should_ask_again_for_a_read_back_that_failed()
    {
        var window = Window(memoryBytes: 0);
        window.Append(1, Batch(1));
        Assert.IsType<DeliveryStep.ReadBack>(window.Next(producersActive: false, KafkaPositions.None));
        Assert.Null(window.Next(producersActive: false, KafkaPositions.None));

        window.ReadBackFailed();

        Assert.IsType<DeliveryStep.ReadBack>(window.Next(producersActive: false, KafkaPositions.None));
    }

    [Fact]
    public void Should_give_a_catch_up_the_smaller_window_only_while_producers_are_sending()
    {
        var window = Window(memoryBytes: 0, liveWindow: 100, backlogWindow: 10);
        for (var sequenceNr = 1; sequenceNr <= 3; sequenceNr++)
            window.Append(sequenceNr, Batch(10));
        window.Next(producersActive: false, KafkaPositions.None);
        window.ReadBackCompleted([(1, Batch(10)), (2, Batch(10)), (3, Batch(10))]);

        Assert.Equal([1L], HandOverAll(window, producersActive: true));
        Assert.Equal([2L, 3L], HandOverAll(window, producersActive: false));
    }

    [Fact]
    public void Should_widen_a_catch_up_window_by_half_each_second_it_delivers_less_than_its_pace()
    {
        var window = CatchingUp(spilled: 200);
        Assert.Equal(100, DeliverWhatFits(window));

        // Producers stored 60 events in that second: the pace (2) asks for 120, the catch-up delivered 100.
        window.PaceCatchUp(intake: 60);
        Assert.Equal(150, window.CatchUpWindow);
        Assert.Equal(150, DeliverWhatFits(window));

        window.PaceCatchUp(intake: 100);
        Assert.Equal(225, window.CatchUpWindow);
    }

    [Fact]
    public void Should_hold_a_catch_up_window_that_keeps_its_pace()
    {
        var window = CatchingUp(spilled: 200);
        DeliverWhatFits(window);

        window.PaceCatchUp(intake: 50);

        Assert.Equal(100, window.CatchUpWindow);
    }

    [Fact]
    public void Should_widen_a_catch_up_window_no_further_than_the_live_window()
    {
        var window = CatchingUp(spilled: 200, liveWindow: 180);
        for (var second = 0; second < 5; second++)
            window.PaceCatchUp(intake: 1000);

        Assert.Equal(180, window.CatchUpWindow);
        Assert.Equal(180, HandOverAll(window, producersActive: true).Count * 10);
    }

    /// <summary>A catch-up of 2000 batches of 10 events whose windows never hold it: only its meter can.</summary>
    private static DeliveryWindow CatchingUpUnheld(FakeTimeProvider clock) =>
        CatchingUp(spilled: 2000, liveWindow: 100_000, backlogWindow: 100_000, catchUpPace: 2, clock);

    [Fact]
    public void Should_meter_a_catch_up_to_its_pace_while_producers_are_sending()
    {
        var clock = new FakeTimeProvider();
        var window = CatchingUpUnheld(clock);

        // Producers stored 5000 events in that second: the pace (2) asks for 10 000 a second. The catch-up starts with
        // a quarter second's worth, then gets its pace's share of each moment that passes.
        window.PaceCatchUp(intake: 5000);
        Assert.Equal(2500, DeliverWhatFits(window));
        Assert.Equal(0, DeliverWhatFits(window));

        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(1000, DeliverWhatFits(window));
    }

    [Fact]
    public void Should_meter_a_catch_up_no_slower_than_the_floor_while_producers_send_little()
    {
        var clock = new FakeTimeProvider();
        var window = CatchingUpUnheld(clock);

        // 10 events in that second: twice that would take the backlog hours; the floor holds it to 5000 a second.
        window.PaceCatchUp(intake: 10);
        Assert.Equal(DeliveryWindow.MeterFloor / 4, DeliverWhatFits(window));

        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(DeliveryWindow.MeterFloor / 5, DeliverWhatFits(window));
    }

    [Fact]
    public void Should_bank_at_most_a_quarter_second_of_a_catch_ups_pace()
    {
        var clock = new FakeTimeProvider();
        var window = CatchingUpUnheld(clock);
        window.PaceCatchUp(intake: 5000);
        DeliverWhatFits(window);

        // Ten seconds with nothing to hand over (a slow read-back, say) earn no ten seconds' burst afterwards.
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(2500, DeliverWhatFits(window));
    }

    [Fact]
    public void Should_say_how_long_the_meter_holds_a_catch_up_back()
    {
        var clock = new FakeTimeProvider();
        var window = CatchingUpUnheld(clock);
        window.PaceCatchUp(intake: 5003);
        Assert.Null(window.MeteredFor(producersActive: true));

        // 10 006 a second allow 2501.5 events: the 251st batch of 10 goes on the last half event and leaves 8.5 owed.
        Assert.Equal(2510, DeliverWhatFits(window));
        var held = window.MeteredFor(producersActive: true);
        Assert.NotNull(held);
        Assert.InRange(held.Value, TimeSpan.FromMilliseconds(1.8), TimeSpan.FromMilliseconds(1.9));
        Assert.Null(window.MeteredFor(producersActive: false));

        // The wait is the debt's time (0.85 ms) and a millisecond more: nothing goes before the debt is paid, and
        // the next batch goes once the wait has passed.
        clock.Advance(TimeSpan.FromMilliseconds(0.8));
        Assert.Equal(0, DeliverWhatFits(window));
        clock.Advance(held.Value - TimeSpan.FromMilliseconds(0.8));
        Assert.InRange(DeliverWhatFits(window), 10, 20);
    }

    [Fact]
    public void Should_not_meter_a_catch_up_while_producers_are_quiet()
    {
        var window = CatchingUpUnheld(new FakeTimeProvider());
        window.PaceCatchUp(intake: 5000);

        Assert.Equal(2000, HandOverAll(window, producersActive: false).Count);
    }

    [Fact]
    public void Should_stop_metering_a_second_in_which_producers_stored_nothing()
    {
        var window = CatchingUpUnheld(new FakeTimeProvider());
        window.PaceCatchUp(intake: 5000);
        DeliverWhatFits(window);

        window.PaceCatchUp(intake: 0);

        Assert.Equal(20_000 - 2500, DeliverWhatFits(window));
    }

    [Fact]
    public void Should_leave_a_catch_up_window_alone_while_producers_store_nothing()
    {
        var window = CatchingUp(spilled: 200);

        window.PaceCatchUp(intake: 0);

        Assert.Equal(100, window.CatchUpWindow);
    }

    [Fact]
    public void Should_keep_the_backlog_window_when_no_pace_is_asked_for()
    {
        var window = CatchingUp(spilled: 200, catchUpPace: 0);

        window.PaceCatchUp(intake: 1000);

        Assert.Equal(100, window.CatchUpWindow);
        Assert.Equal(100, HandOverAll(window, producersActive: true).Count * 10);
    }

    [Fact]
    public void Should_return_to_the_backlog_window_once_the_catch_up_is_delivered()
    {
        var window = CatchingUp(spilled: 20);
        window.PaceCatchUp(intake: 1000);
        Assert.Equal(150, window.CatchUpWindow);

        DeliverWhatFits(window);
        DeliverWhatFits(window);
        Assert.False(window.CatchingUp);
        window.PaceCatchUp(intake: 1000);

        Assert.Equal(100, window.CatchUpWindow);
    }

    [Fact]
    public void Should_count_a_batch_confirmed_twice_once()
    {
        var window = Window();
        window.Append(1, Batch(10));
        window.Append(2, Batch(10));
        HandOverAll(window);

        Assert.Equal(10, window.Confirmed(2));
        Assert.Null(window.Confirmed(2));

        Assert.Equal(10, window.UnconfirmedEvents);
    }

    [Fact]
    public void Should_hand_an_unconfirmed_batch_over_again_with_its_events_when_retried()
    {
        var window = Window();
        window.Append(1, Batch(3));
        HandOverAll(window);

        Assert.Equal(3, window.Unconfirmed(1));
        Assert.Equal(0, window.UnconfirmedEvents);

        var retry = Assert.Single(window.TakeRetries());
        Assert.Equal((1L, 3), (retry.SequenceNr, retry.Events.Count));
        Assert.Equal(3, window.UnconfirmedEvents);
        Assert.Empty(window.TakeRetries());
    }

    [Fact]
    public void Should_set_the_cursor_after_recovery_below_the_first_replayed_batch()
    {
        var replayed = Window();
        replayed.Append(7, Batch(1));
        replayed.Recovered(lastSequenceNr: 7, markedDelivered: 0);
        Assert.Equal(6, replayed.DeliveredThrough);

        var empty = Window();
        empty.Recovered(lastSequenceNr: 12, markedDelivered: 0);
        Assert.Equal(12, empty.DeliveredThrough);
    }

    [Fact]
    public void Should_drop_the_replayed_batches_the_recorded_cursor_says_were_delivered()
    {
        var window = Window();
        foreach (var sequenceNr in new long[] { 7, 8, 9 })
            window.Append(sequenceNr, Batch(2));

        window.Recovered(lastSequenceNr: 9, markedDelivered: 8);

        Assert.Equal(8, window.DeliveredThrough);
        Assert.Equal((2L, 1), (window.BacklogEvents, window.Batches));
        Assert.Equal(9, Assert.IsType<DeliveryStep.HandOver>(window.Next(producersActive: false, KafkaPositions.None)).Batch.SequenceNr);
    }

    [Fact]
    public void Should_place_the_undelivered_records_from_where_kafka_was_when_the_oldest_was_first_handed_over()
    {
        var window = Window();
        var atFirstHandOver = KafkaPositions.Of([new(0, 10)]);
        var later = KafkaPositions.Of([new(0, 20)]);
        window.Append(1, Batch(1));
        window.Append(2, Batch(1));
        Assert.Same(atFirstHandOver, window.KafkaFrom(atFirstHandOver));

        window.Next(producersActive: false, atFirstHandOver);
        window.Next(producersActive: false, later);
        Assert.Same(atFirstHandOver, window.KafkaFrom(later));

        window.Confirmed(1);
        Assert.Same(later, window.KafkaFrom(KafkaPositions.Of([new(0, 30)])));
    }
}
