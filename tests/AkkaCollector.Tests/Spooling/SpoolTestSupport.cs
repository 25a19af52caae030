using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;

namespace AkkaCollector.Tests.Spooling;

/// <summary>
/// A Kafka stand-in: records what the spooler hands over and confirms only when told to (or at once). Confirmed
/// events land in its <see cref="RecordingTopic"/>, which it also reads back (one partition, offsets from 0).
/// </summary>
internal sealed class RecordingPublisher(bool confirmAtOnce = false, RecordingTopic? topic = null) : IEventPublisher, IKafkaReadBack
{
    public ConcurrentQueue<PublishedBatch> Published { get; } = new();

    /// <summary>What Kafka holds: shared with the publisher of a restarted spooler, as a real topic outlives a collector.</summary>
    public RecordingTopic Topic { get; } = topic ?? new();

    public void Publish(IReadOnlyList<IPublishableEvent> events, string spool, BatchAnswered answered)
    {
        var batch = new PublishedBatch(events, spool, answered, Topic);
        Published.Enqueue(batch);
        if (confirmAtOnce)
            batch.Confirm();
    }

    public int Unanswered => Published.Where(batch => !batch.Answered).Sum(batch => batch.Events.Count);

    public IReadOnlyList<string> PublishedIds => Published.SelectMany(p => p.Events).Select(e => e.MessageId).ToList();

    public Task<KafkaReadBackResult> ReadAsync(string spool, KafkaPositions? from, IReadOnlySet<RecordId> sought, CancellationToken cancellationToken) =>
        Task.FromResult(Topic.Read(spool, from, sought));
}

/// <summary>The spool the specs run: partition 0 of one instance, in a journal nobody else shares.</summary>
internal static class TestSpool
{
    public static readonly SpoolId Id = new("spec", 0);

    public static readonly ISpoolOwnership Alone = new FileOwnership(() => Task.FromResult<IReadOnlyList<SpoolId>>([]));
}

/// <summary>Questions a spec asks a spool through the TestKit.</summary>
internal static class SpoolQuestions
{
    /// <summary>The spool's counters. It answers after handling everything sent to it before, timer messages included.</summary>
    public static SpoolState StateOf(this Akka.TestKit.TestKitBase kit, IActorRef spool)
    {
        spool.Tell(GetSpoolState.Instance, kit.TestActor);
        return kit.ExpectMsg<SpoolState>();
    }
}

/// <summary>One partition of a topic, in memory: what <see cref="RecordingPublisher"/> confirmed, in order.</summary>
internal sealed class RecordingTopic
{
    private readonly List<(string Spool, RecordId Id)> _records = [];

    /// <summary>Where each read-back started (null: only the end was asked for).</summary>
    public ConcurrentQueue<long?> ReadsFrom { get; } = new();

    public IReadOnlyList<string> MessageIds
    {
        get
        {
            lock (_records)
                return _records.Select(r => r.Id.MessageId).ToList();
        }
    }

    public KafkaPositions Append(string spool, IEnumerable<IPublishableEvent> events)
    {
        lock (_records)
        {
            _records.AddRange(events.Select(e => (spool, new RecordId(e.WriteKey, e.MessageId))));
            return KafkaPositions.Of([new(0, _records.Count)]);
        }
    }

    public KafkaReadBackResult Read(string spool, KafkaPositions? from, IReadOnlySet<RecordId> sought)
    {
        lock (_records)
        {
            var start = from is null ? _records.Count : from.Next.GetValueOrDefault(0);
            ReadsFrom.Enqueue(from is null ? null : start);
            var read = _records.Skip((int)start).ToList();
            var ids = read.Where(r => r.Spool == spool).Select(r => r.Id).ToHashSet();
            var fromOtherSpools = read.Where(r => r.Spool != spool && sought.Contains(r.Id)).Select(r => r.Id).Count(ids.Add);
            return new KafkaReadBackResult(ids, fromOtherSpools, KafkaPositions.Of([new(0, _records.Count)]), _records.Count - start);
        }
    }
}

/// <summary>One batch handed to <see cref="RecordingPublisher"/>, waiting for the test to say how Kafka answered.</summary>
internal sealed record PublishedBatch(IReadOnlyList<IPublishableEvent> Events, string Spool, BatchAnswered Answer, RecordingTopic Topic)
{
    public bool Answered { get; private set; }

    public void Confirm() => Reply(null, Topic.Append(Spool, Events));

    public void Fail(string error) => Reply(error, KafkaPositions.None);

    /// <summary>The first <paramref name="written"/> events reached the topic, then Kafka reported the batch failed (as after a timeout).</summary>
    public void FailAfterWriting(int written, string error) => Reply(error, Topic.Append(Spool, Events.Take(written)));

    private void Reply(string? error, KafkaPositions confirmed)
    {
        Answered = true;
        Answer(error, confirmed);
    }
}

/// <summary>Stands in for the journal's query side: answers with the batches the test says are in the journal.</summary>
internal sealed class ScriptedSpoolReader : ISpoolReader
{
    public ConcurrentDictionary<long, SpoolBatch> Journal { get; } = new();
    public ConcurrentQueue<(long From, long To)> Reads { get; } = new();

    /// <summary>Reads answer once this has completed: a spec holds a catch-up's read-back with it.</summary>
    public Task Held { get; set; } = Task.CompletedTask;

    public async Task<IReadOnlyList<(long SequenceNr, SpoolBatch Batch)>> ReadAsync(string persistenceId, long fromSequenceNr, long toSequenceNr)
    {
        Reads.Enqueue((fromSequenceNr, toSequenceNr));
        await Held;
        return Journal.Where(kv => kv.Key >= fromSequenceNr && kv.Key <= toSequenceNr)
            .OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)).ToList();
    }
}

internal static class SpoolEvents
{
    public static SpooledEvent Event(string id, int payloadBytes = 100) =>
        new(id, "write-key", "user-" + id, "track", Encoding.UTF8.GetBytes(new string('x', payloadBytes)));

    public static Enqueue Request(params string[] ids) => new(ids.Select(id => Event(id)).ToList());
}

/// <summary>An actor system whose journal is Akka.Persistence.TestKit's TestJournal (which can delay, fail and reject writes).</summary>
internal static class SpoolTestJournal
{
    public static readonly Config Config = ConfigurationFactory.ParseString("""
        akka.persistence.journal.plugin = "akka.persistence.journal.test"
        akka.persistence.journal.test {
          class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = ""
        # The machine running the suite may be busy; a slow answer is not a wrong one.
        akka.test.single-expect-default = 10s
        """);
}

/// <summary>
/// Holds every journal write (or, set on recovery, every replayed message) until the test releases it, and says when the
/// first has reached the journal: a spec then proves "not before the write" by the write's own progress, not by a sleep
/// racing a delay on a busy machine.
/// </summary>
internal sealed class HeldWrites : IJournalInterceptor
{
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the first write has reached the journal (and is being held).</summary>
    public Task Arrived => _arrived.Task;

    public async Task InterceptAsync(IPersistentRepresentation message)
    {
        _arrived.TrySetResult();
        await _released.Task;
    }

    /// <summary>Lets every held write, and every later one, through.</summary>
    public void Release() => _released.TrySetResult();
}
