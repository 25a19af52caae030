// The spool: design note and invariants
// =====================================
// A spooler owns one partition of the spool (persistence id "spool-INSTANCE-N", SpoolId). Producers' events reach it
// as Enqueue messages; Kafka takes them back out. Everything here serves one promise: an event answered 200 is on disk
// and stays there until Kafka has confirmed it.
//
// 1. Acknowledged means durable. A requester gets SpoolReply(Stored) only from the persist callback of the
//    journal write that holds its events. Nothing is answered Stored from memory.
// 2. Group commit. Requests that arrive while MaxWritesInFlight writes are running gather into the next write,
//    so one journal row (one SpoolBatch) carries many requests' events and durability costs one write per
//    batch, not per event. Writes may be pipelined (PersistAsync, MaxWritesInFlight > 1): callbacks come in
//    order, and each write's answers are released together (SpoolRequester.AnswerAll). A write that would carry
//    fewer than CommitDelayBelowEvents events waits up to CommitDelay for more (one timer at a time).
// 3. Never accept what cannot be stored. When backlog + writes in flight + waiting events would pass the byte
//    bound, the request is answered Full (503) before anything is written; a failed or rejected write is
//    answered Failed (503) for every request in it. A persist failure stops this actor (Akka.Persistence's
//    rule); before it stops it answers Failed to every request it holds, and its SpoolPartition restarts it.
// 4. Delivery in journal order. Batches are handed to Kafka in sequence-number order, at most
//    MaxUnconfirmedEvents at a time, through a child (HandOffActor), so that handing thousands of events to the
//    producer never holds up the requests in this actor's mailbox; a failed delivery is retried after a pause.
//    A catch-up (batches that were spilled) gets the smaller MaxUnconfirmedBacklogEvents window while producers
//    are sending: live requests come before the backlog. Once a second the catch-up is paced: metered to
//    CatchUpPace times the events stored in that second (DeliveryWindow.MeterFloor at least), its window widened
//    while it delivers less.
//    Kafka records are keyed by user and carry the messageId and the spool (persistence id) as headers.
// 5. The journal tracks the undelivered backlog. The delivered cursor is the highest sequence number below
//    which every batch is confirmed; the journal is truncated up to it (one delete in flight at a time, at most
//    one per TruncationInterval), so disk use follows the backlog and a restart replays exactly the undelivered
//    batches (plus, at most, those delivered after the last truncation: invariant 8 keeps them from Kafka). Truncation
//    is paced because each delete is a journal transaction of its own: one per delivered batch would contend
//    with the group-committed writes for SQLite's single writer lock and starve them.
// 6. Memory is bounded. Undelivered batches keep their events in memory up to MemoryBytesPerPartition; past
//    that they are "spilled": only their sequence number and size stay, and their events are read back from
//    the journal in runs of at most half that budget, the next run while the one before it is still with Kafka
//    (when the budget has room for it), so that Kafka never waits for the journal. A long Kafka outage fills the
//    disk bound, not the heap.
// 7. A retried request is stored once. An SDK that never saw its 200 sends the same messageIds again; the spooler
//    remembers the ids (per write key) of the last Ingress:DedupWindow events it stored, and of those waiting for or
//    in a write (DedupWindow). A stored one is dropped (counted duplicate_dropped) and its request still answered
//    Stored: it is durable. One still being written makes the whole request wait for that write's outcome (parked),
//    never answered early: if the write fails, the retry is the copy that gets written. Routing is by user, so a
//    retry reaches the spooler that stored the first copy. After a restart the window holds what the journal replays
//    (the undelivered batches); ids delivered and truncated before the crash are forgotten.
// 8. One copy in Kafka across restarts. Every journal write also records how far delivery had got (a DeliveryMark,
//    piggy-backed on the group commit that happens anyway, no write of its own): the delivered cursor, and the
//    positions in Kafka (per partition) from which every record of a later batch must lie, taken when the oldest
//    undelivered batch was first handed over (Kafka appends: what is produced after a position is known lands beyond
//    it). On recovery, replayed batches at or below the newest mark's cursor are known delivered and dropped; for the
//    rest the spooler reads the topic back from the mark's positions to the end, collects the write key and messageId
//    of records carrying its spool header, and hands over nothing until that read is done; an event found there is not sent
//    again (counted as a duplicate avoided at recovery). The read also seeks the newest replayed events (at most
//    NewestReplayedSought) under other spools' headers: a request stored as its collector was killed, whose answer was
//    lost, is replayed by the load balancer on another collector, and that copy is the same event; one delivered before
//    the read is found there and not sent again. A drain (a survivor taking a gone collector's spool over) also asks its
//    own collector's spoolers which of those events they stored (WhichAreStored): the replay most likely came to this
//    survivor, and a copy in its journal is delivered by its own spooler, whether or not Kafka has it yet. A copy on a
//    third collector that reaches Kafka only after the read is still a duplicate. Replayed batches keep the recovered positions as their own
//    (positions do not advance until they are delivered), so a second crash still looks back far enough. A batch Kafka reported failed is read back the same way before
//    it is sent again: only what the topic does not hold goes out again. A journal without marks (written before
//    them) or a mark written before Kafka was ever reached is delivered at least once, as before.
//    Why this and not Kafka transactions: it works against any Kafka and can be proven here, where librdkafka's mock
//    cluster does not implement transactions faithfully (OneCopyInKafkaTests: ten kill -9s on each spool provider,
//    0 duplicates; 566 in the second round with the read-back turned off). The spool header is the persistence id,
//    which collectors with their own journals share: an id found under another collector's spool-N is that same
//    event, in Kafka already. Costs: ~12 bytes per Kafka partition on every journal write (396 bytes with 32
//    partitions: 1 % of a 100-event write, and a single-event write doubles), ~50 ns per delivery report to keep
//    the positions (librdkafka fills partition and offset whatever DeliveryReportFields asks for), a 13-byte
//    header per record, and one read of the topic's tail per restart.
// 9. One owner per spool. A spooler runs only while its collector holds the spool's claim (ISpoolOwnership: the file for
//    SQLite, an advisory lock for a shared PostgreSQL spool; SpoolPartition claims before it starts one). It checks the
//    claim's lease before every journal write and every hand-over, and does neither once it has lapsed. A survivor
//    that takes a gone collector's spool over (SpoolRole.Drain, started by SpoolTakeover) runs this same recovery, so
//    delivery is in journal order and invariant 8 skips what Kafka holds; it first writes an empty batch at the next
//    sequence number (the fence: a woken owner's next write collides with it on the journal's key and fails), and
//    once everything is confirmed and truncated it tells its parent, which gives the claim up.

using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

/// <summary>
/// One partition of the durable spool: group-commits producers' events to the journal, then delivers them to Kafka.
/// This file holds its state and the write side; SpoolerActor.Recovery.cs, .Delivery.cs and .Truncation.cs the rest.
/// </summary>
public sealed partial class SpoolerActor : ReceivePersistentActor, IWithTimers
{
    private readonly SpoolId _spool;
    private readonly SpoolRole _role;
    private readonly SpoolOptions _options;
    private readonly SpoolStatus? _status;
    private readonly ISpoolOwnership? _ownership;
    private bool _claimLapsed;
    private readonly IActorRef _handOff;
    private readonly ISpoolReader _reader;
    private readonly IKafkaReadBack _kafkaReadBack;
    private const string TruncationTimer = "truncate";
    private const string CatchUpPacer = "pace-catch-up";
    private static readonly TimeSpan CatchUpPacedEvery = TimeSpan.FromSeconds(1);
    private const string CatchUpMeter = "meter-catch-up";
    /// <summary>A request within this long ago means producers are sending (a catch-up gets the smaller window).</summary>
    private static readonly TimeSpan ProducersActiveWithin = TimeSpan.FromSeconds(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly List<PendingRequest> _waiting = [];
    private readonly DedupWindow _dedup;
    private List<PendingRequest> _parked = [];
    private readonly Prometheus.Gauge.Child _dedupIds;
    private long _waitingBytes;
    private int _waitingEvents;
    /// <summary>A commit delay is running: the write it holds back starts when it ends, or once enough events wait.</summary>
    private bool _commitDelayRunning;
    /// <summary>The commit delay has passed: the next write starts whatever waits.</summary>
    private bool _commitDelayPassed;
    private readonly Queue<List<SpoolRequester>> _writesInFlight = new();
    private long _inFlightBytes;

    private readonly DeliveryWindow _window;
    /// <summary>When producers last sent and what the catch-up's meter counts by; a spec's fake clock stands in for it.</summary>
    private readonly TimeProvider _clock;
    private long _lastRequestAt;
    /// <summary>Events stored from requests since the catch-up was last paced.</summary>
    private long _intake;

    private long _truncatedThrough;
    private bool _deleteInFlight;

    /// <summary>Where Kafka's records are known to reach (invariant 8): recovered from the newest mark, then advanced by every confirmation.</summary>
    private KafkaPositions _kafkaNow = KafkaPositions.None;
    private DeliveryMark? _recoveredMark;
    private long _firstReplayed;
    /// <summary>Nothing is handed over until Kafka has been read back after recovery.</summary>
    private bool _kafkaRead;
    /// <summary>Replayed events found in Kafka already, or held by this collector's own spoolers (a drain's); null once those batches are delivered.</summary>
    private IReadOnlySet<RecordId>? _sentElsewhere;
    /// <summary>The newest replayed events, sought in Kafka under any spool until the read-back after recovery is done.</summary>
    private Queue<RecordId>? _newestReplayed = new();
    /// <summary>
    /// How many of the newest replayed events the read-back after recovery seeks under other spools' headers. A copy
    /// elsewhere comes from a request whose answer was lost (stored as the collector was killed and replayed by the load
    /// balancer, or retried by its producer): the last seconds of writes, 2 s at 5 000 events/s. Bounded so that a
    /// spool recovered with a million events keeps ~1 MB of ids, not all of them.
    /// </summary>
    private const int NewestReplayedSought = 10_000;
    private long _replayedThrough;
    private readonly List<IActorRef> _truncationWaiters = [];
    /// <summary>Events a spool taken over held when it was fenced: what its drain delivered.</summary>
    private long _toDrain;
    /// <summary>A drain's view of this collector's own spool partitions, asked which of its replayed events they stored too.</summary>
    private readonly IReadOnlyList<IActorRef> _localSpools;
    private static readonly TimeSpan LocalSpoolsAnswerWithin = TimeSpan.FromSeconds(5);

    public SpoolerActor(SpoolId spool, SpoolRole role, SpoolOptions options, SpoolStatus? status, IEventPublisher publisher, ISpoolReader reader,
        IKafkaReadBack kafkaReadBack, ISpoolOwnership? ownership, TimeProvider? clock = null, IReadOnlyList<IActorRef>? localSpools = null)
    {
        _spool = spool;
        _localSpools = role == SpoolRole.Drain ? localSpools ?? [] : [];
        _role = role;
        _options = options;
        _status = role == SpoolRole.Own ? status : null;
        _ownership = ownership;
        _handOff = Context.ActorOf(HandOffActor.Props(publisher, Self, spool.PersistenceId), "hand-off");
        _reader = reader;
        _kafkaReadBack = kafkaReadBack;
        _clock = clock ?? TimeProvider.System;
        _window = new DeliveryWindow(options.MemoryBytesPerPartition, options.MaxUnconfirmedEvents, options.MaxUnconfirmedBacklogEvents, options.CatchUpPace, _clock);
        _dedup = new DedupWindow(options.DedupWindow);
        _dedupIds = CollectorMetrics.DedupWindowIds.WithLabels(role == SpoolRole.Own ? spool.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture) : spool.PersistenceId);

        Recover<SpoolBatch>(HandleRecoveredBatch);
        Recover<RecoveryCompleted>(_ => HandleRecoveryCompleted());

        Command<Enqueue>(HandleEnqueue);
        Command<WriteWaiting>(_ => WriteWhatWaits());
        Command<CommitDelayPassed>(_ =>
        {
            _commitDelayRunning = false;
            _commitDelayPassed = true;
            WriteWhatWaits();
        });
        Command<BatchDelivered>(HandleBatchDelivered);
        Command<SpilledBatchesLoaded>(HandleSpilledBatchesLoaded);
        Command<SpilledBatchesFailed>(HandleSpilledBatchesFailed);
        Command<RetryFailedDeliveries>(_ => HandleRetryFailedDeliveries());
        Command<RetryReload>(_ => PublishWhatFits());
        Command<KafkaReadBackDone>(HandleKafkaReadBackDone);
        Command<KafkaReadBackFailed>(HandleKafkaReadBackFailed);
        Command<RetryKafkaReadBack>(_ => ReadKafkaBack());
        Command<RetryReadBackDone>(HandleRetryReadBackDone);
        Command<RetryReadBackFailed>(HandleRetryReadBackFailed);
        Command<TruncationDue>(_ => TruncateDelivered());
        Command<PaceCatchUp>(_ => HandlePaceCatchUp());
        Command<ResumeCatchUp>(_ => PublishWhatFits());
        Command<TruncateNow>(_ => HandleTruncateNow());
        Command<DeleteMessagesSuccess>(HandleDeleteSuccess);
        Command<DeleteMessagesFailure>(HandleDeleteFailure);
        Command<GetSpoolState>(_ => Sender.Tell(CurrentState()));
        Command<WhichAreStored>(asked => Sender.Tell(new StoredHere(asked.Ids.Where(_dedup.HasStored).ToHashSet())));
    }

    /// <param name="ownership">Checked before every write and hand-over; null where the spool is nobody else's (specs).</param>
    /// <param name="clock">The system's clock unless a spec drives time itself.</param>
    /// <param name="localSpools">A drain's: this collector's own spool partitions (<see cref="WhichAreStored"/>).</param>
    public static Props Props(SpoolId spool, SpoolRole role, SpoolOptions options, SpoolStatus? status, IEventPublisher publisher, ISpoolReader reader,
        IKafkaReadBack kafkaReadBack, ISpoolOwnership? ownership = null, TimeProvider? clock = null, IReadOnlyList<IActorRef>? localSpools = null) =>
        Akka.Actor.Props.Create(() => new SpoolerActor(spool, role, options, status, publisher, reader, kafkaReadBack, ownership, clock, localSpools));

    public override string PersistenceId => _spool.PersistenceId;

    public ITimerScheduler Timers { get; set; } = null!;

    private void HandleEnqueue(Enqueue request)
    {
        _lastRequestAt = _clock.GetTimestamp();
        Admit(request.Events, request.RequesterFrom(Sender));
        WriteWhatWaits();
    }

    /// <summary>Invariant 7, then 3: drops what is stored already, parks a request whose events are being written, bounds the rest.</summary>
    private void Admit(IReadOnlyList<SpooledEvent> events, SpoolRequester requester)
    {
        if (_dedup.Admit(events, out var duplicates) is not { } fresh)
        {
            _parked.Add(new PendingRequest(events, 0, requester));
            return;
        }
        if (duplicates > 0)
            CollectorMetrics.EventsDropped.WithLabels(CollectorMetrics.DropCause.Duplicate).Inc(duplicates);
        if (fresh.Count == 0)
        {
            requester.Answer(SpoolReply.Stored);
            return;
        }

        var bytes = fresh.Sum(e => (long)e.Payload.Length);
        if (UsedBytes + bytes > _options.MaxBytesPerPartition)
        {
            _dedup.Abandoned(fresh);
            requester.Answer(SpoolReply.Full);
            return;
        }

        _waiting.Add(new PendingRequest(fresh, bytes, requester));
        _waitingBytes += bytes;
        _waitingEvents += fresh.Count;
        ReportBacklog();
    }

    /// <summary>A write's outcome is known: the requests that waited for it are admitted again, in the order they came.</summary>
    private void AdmitParked()
    {
        if (_parked.Count == 0)
            return;
        var parked = _parked;
        _parked = [];
        foreach (var request in parked)
            Admit(request.Events, request.ReplyTo);
    }

    /// <summary>Group commit: one journal write for everything that waited, while fewer than MaxWritesInFlight run.</summary>
    private void WriteWhatWaits()
    {
        if (!StillOwned())
        {
            RefuseWhatWaits();
            return;
        }
        while (_waiting.Count > 0 && _writesInFlight.Count < _options.MaxWritesInFlight)
        {
            if (HoldForCommitDelay())
                return;
            WriteNextBatch();
        }
    }

    /// <summary>
    /// Invariant 2's commit delay: true while a small write should wait for more requests. The wait is a task delay on the
    /// spooler's clock, not an Akka timer: the scheduler's tick is 10 ms, ten times the delay.
    /// </summary>
    private bool HoldForCommitDelay()
    {
        if (_commitDelayPassed || _options.CommitDelay <= TimeSpan.Zero || _waitingEvents >= _options.CommitDelayBelowEvents)
        {
            _commitDelayPassed = false;
            return false;
        }
        if (!_commitDelayRunning)
        {
            _commitDelayRunning = true;
            Task.Delay(_options.CommitDelay, _clock).PipeTo(Self, success: () => CommitDelayPassed.Instance);
        }
        return true;
    }

    private void WriteNextBatch()
    {
        var events = new List<SpooledEvent>();
        var requesters = new List<SpoolRequester>();
        var taken = 0;
        long bytes = 0;
        while (taken < _waiting.Count && (events.Count == 0 || events.Count + _waiting[taken].Events.Count <= _options.MaxBatchEvents))
        {
            events.AddRange(_waiting[taken].Events);
            requesters.Add(_waiting[taken].ReplyTo);
            bytes += _waiting[taken].Bytes;
            taken++;
        }
        _waiting.RemoveRange(0, taken);
        _waitingBytes -= bytes;
        _waitingEvents -= events.Count;
        _inFlightBytes += bytes;
        _writesInFlight.Enqueue(requesters);

        var started = Stopwatch.GetTimestamp();
        var mark = new DeliveryMark(_window.DeliveredThrough, _window.KafkaFrom(_kafkaNow));
        PersistAsync(new SpoolBatch(events, mark), batch => HandleBatchPersisted(batch, started));
    }

    private void HandleBatchPersisted(SpoolBatch batch, long started)
    {
        var requesters = _writesInFlight.Dequeue();
        _inFlightBytes -= batch.PayloadBytes;
        SpoolRequester.AnswerAll(requesters, SpoolReply.Stored);
        _dedup.Stored(batch.Events);
        _dedupIds.Set(_dedup.Count);
        AdmitParked();

        CollectorMetrics.JournalWriteSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        CollectorMetrics.JournalBatchEvents.Observe(batch.Events.Count);
        CollectorMetrics.EventsPersisted.Inc(batch.Events.Count);
        _intake += batch.Events.Count;

        _window.Append(LastSequenceNr, batch);
        ReportBacklog();
        PublishWhatFits();
        WriteWhatWaits();
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // A rejected write (serialization, journal buffer full) leaves the actor running: answer its requests and go on.
        _log.Warning(cause, "Spooler {0}: journal rejected write {1}; its requests are answered 503", _spool, sequenceNr);
        CollectorMetrics.JournalWriteFailures.Inc();
        var requesters = _writesInFlight.Dequeue();
        var batch = (SpoolBatch)@event;
        _inFlightBytes -= batch.PayloadBytes;
        SpoolRequester.AnswerAll(requesters, SpoolReply.Failed);
        _dedup.Abandoned(batch.Events);
        AdmitParked();
        ReportBacklog();
        // Akka.Persistence flushes writes asked for in a persist callback or a command handler, not in this one: a write
        // started here would wait for the next command. The message is that command.
        Self.Tell(WriteWaiting.Instance);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // Akka.Persistence stops the actor after this (the write's fate is unknown). Nobody may wait for an answer
        // that will never come: every request this actor holds is answered 503; its parent starts a fresh one,
        // which replays what did reach the journal.
        _log.Error(cause, "Spooler {0}: journal write {1} failed; answering 503 to {2} waiting requests and restarting",
            _spool, sequenceNr, _writesInFlight.Sum(w => w.Count) + _waiting.Count + _parked.Count);
        CollectorMetrics.JournalWriteFailures.Inc();
        SpoolRequester.AnswerAll(_writesInFlight.SelectMany(w => w).Concat(_waiting.Concat(_parked).Select(w => w.ReplyTo)).ToList(), SpoolReply.Failed);
        _writesInFlight.Clear();
        _waiting.Clear();
        _parked.Clear();
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>Bytes this spooler answers for: undelivered, being written, and waiting for a write.</summary>
    private long UsedBytes => _window.BacklogBytes + _inFlightBytes + _waitingBytes;

    /// <summary>
    /// Publishes the backlog, and "full" from 90 % of the bound: readiness turns 503 a little before requests
    /// are refused, so the load balancer moves producers away before they see 503s.
    /// </summary>
    private void ReportBacklog()
    {
        // A spool taken over takes no events: its backlog is not this collector's to be full of.
        _status?.Report(_spool.Partition, _window.BacklogEvents, _window.BacklogBytes);
        _status?.ReportFull(_spool.Partition, UsedBytes >= _options.MaxBytesPerPartition * 9 / 10);
    }

    private SpoolState CurrentState() =>
        new(_window.BacklogEvents, _window.BacklogBytes, _window.MemoryBytes, _window.DeliveredThrough, _truncatedThrough, LastSequenceNr);

    private sealed record PendingRequest(IReadOnlyList<SpooledEvent> Events, long Bytes, SpoolRequester ReplyTo);
}
