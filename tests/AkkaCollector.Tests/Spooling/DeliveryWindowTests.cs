using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using static AkkaCollector.Tests.Spooling.SpoolEvents;

namespace AkkaCollector.Tests.Spooling;

/// <summary>The spooler's delivery bookkeeping on its own: order, the window, spill and read-back, the delivered cursor.</summary>
public sealed class DeliveryWindowTests
{
    private const int EventBytes = 100;

    private static SpoolBatch Batch(int events) =>
        new(Enumerable.Range(0, events).Select(i => Event($"e{i}", EventBytes)).ToList());

    private static DeliveryWindow Window(long memoryBytes = 1_000_000, long liveWindow = 100, long backlogWindow = 100) =>
        new(memoryBytes, liveWindow, backlogWindow);

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
