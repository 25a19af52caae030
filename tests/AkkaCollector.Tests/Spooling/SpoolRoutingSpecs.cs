using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using Akka.TestKit;
using AkkaCollector.Spooling;
using static AkkaCollector.Tests.Spooling.SpoolEvents;

namespace AkkaCollector.Tests.Spooling;

/// <summary>The HTTP side's door to the spool: routing by user, one answer per request, and a bound on the wait.</summary>
public sealed class SpoolRoutingSpecs : Akka.TestKit.Xunit2.TestKit
{
    public SpoolRoutingSpecs() : base(SpoolTestJournal.Config)
    {
    }

    [Fact]
    public async Task Should_complete_a_request_as_stored_only_after_its_journal_write()
    {
        var journal = TestJournal.FromRef(Persistence.Instance.Apply(Sys).JournalFor(null));
        var writes = new HeldWrites();
        await journal.OnWrite.SetInterceptorAsync(writes);
        var spooler = Sys.ActorOf(SpoolPartition.For(TestSpool.Id, SpoolRole.Own, new SpoolOptions { Partitions = 1 }, new SpoolStatus(1, 1L << 30),
            new RecordingPublisher(), new ScriptedSpoolReader(), new RecordingPublisher(), TestSpool.Alone));
        var spool = new Spool([spooler], TimeSpan.FromSeconds(10));

        var stored = spool.SpoolAsync([Event("a")], CancellationToken.None);

        await writes.Arrived.WaitAsync(TimeSpan.FromSeconds(5));
        // Held, the write cannot complete: an answer in this window would have come before it.
        await Task.WhenAny(stored, Task.Delay(TimeSpan.FromMilliseconds(200)));
        Assert.False(stored.IsCompleted, "answered while its journal write was still held");
        writes.Release();
        Assert.Equal(SpoolOutcome.Stored, await stored.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Should_fail_a_batch_spanning_two_partitions_when_one_of_them_fails()
    {
        var (first, second) = (CreateTestProbe(), CreateTestProbe());
        var spool = new Spool([first.Ref, second.Ref], TimeSpan.FromSeconds(10));
        var onFirst = UserOnPartition(0);
        var onSecond = UserOnPartition(1);

        var answer = spool.SpoolAsync([EventOf(onFirst), EventOf(onSecond), EventOf(onFirst)], CancellationToken.None);

        var toFirst = first.ExpectMsg<Enqueue>();
        var toSecond = second.ExpectMsg<Enqueue>();
        Assert.Equal(2, toFirst.Events.Count);
        Assert.Single(toSecond.Events);
        toFirst.Completion!.Answer(SpoolOutcome.Stored);
        toSecond.Completion!.Answer(SpoolOutcome.Failed);
        Assert.Equal(SpoolOutcome.Failed, await answer.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Should_send_one_users_events_to_one_partition_in_one_message()
    {
        var (first, second) = (CreateTestProbe(), CreateTestProbe());
        var spool = new Spool([first.Ref, second.Ref], TimeSpan.FromSeconds(10));
        var user = UserOnPartition(1);

        var answer = spool.SpoolAsync([EventOf(user), EventOf(user)], CancellationToken.None);

        var request = second.ExpectMsg<Enqueue>();
        first.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, request.Events.Count);
        request.Completion!.Answer(SpoolOutcome.Stored);
        Assert.Equal(SpoolOutcome.Stored, await answer.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Should_give_up_with_a_timeout_when_the_spooler_does_not_answer_in_time_and_drop_its_late_answer()
    {
        var slow = CreateTestProbe();
        var spool = new Spool([slow.Ref], TimeSpan.FromMilliseconds(300));

        var first = spool.SpoolAsync([Event("a")], CancellationToken.None);
        var late = slow.ExpectMsg<Enqueue>();
        await Assert.ThrowsAsync<TimeoutException>(() => first.WaitAsync(TimeSpan.FromSeconds(5)));
        var second = spool.SpoolAsync([Event("b")], CancellationToken.None);
        var inTime = slow.ExpectMsg<Enqueue>();
        late.Completion!.Answer(SpoolOutcome.Stored);
        inTime.Completion!.Answer(SpoolOutcome.Stored);

        Assert.Equal(SpoolOutcome.Stored, await second.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Should_stop_waiting_for_the_spooler_when_the_client_goes_away()
    {
        var silent = CreateTestProbe();
        var spool = new Spool([silent.Ref], TimeSpan.FromSeconds(30));
        using var clientGone = new CancellationTokenSource();

        var answer = spool.SpoolAsync([Event("a")], clientGone.Token);
        silent.ExpectMsg<Enqueue>();
        await clientGone.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private static SpooledEvent EventOf(string user) => Event(user) with { PartitionKey = user };

    private static string UserOnPartition(int partition) =>
        Enumerable.Range(0, 100).Select(i => $"user-{i}").First(user => Spool.PartitionOf("write-key", user, 2) == partition);
}
