using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

/// <summary>
/// A spooler's bookkeeping of its journaled, undelivered batches (invariants 4 to 6 of <see cref="SpoolerActor"/>):
/// which batch goes to Kafka next, how many events are out unconfirmed, which batches are spilled (only in the
/// journal) and must be read back, the delivered cursor below which every batch is confirmed, and where in Kafka the
/// records of the undelivered batches can be (invariant 8). A plain class:
/// the actor does the I/O it asks for (hand-overs, reads), this decides what and when.
/// </summary>
/// <param name="memoryBytes">Payload bytes of undelivered batches kept in memory; past it, batches are spilled.</param>
/// <param name="liveWindow">Events that may be unconfirmed before the next batch is handed over.</param>
/// <param name="backlogWindow">The same for a spilled batch (a catch-up) while producers are sending: live requests come first.</param>
/// <param name="catchUpPace">
/// What a catch-up should deliver while producers are sending, as a multiple of what they send: <see cref="PaceCatchUp"/>
/// starts its window at <paramref name="backlogWindow"/> and widens it toward <paramref name="liveWindow"/> while it
/// falls short, and meters its hand-overs to that pace so that it never runs ahead of it.
/// 0 keeps the window at <paramref name="backlogWindow"/>, unmetered.
/// </param>
/// <param name="clock">The meter's clock.</param>
public sealed class DeliveryWindow(long memoryBytes, long liveWindow, long backlogWindow, double catchUpPace = 0, TimeProvider? clock = null)
{
    /// <summary>A catch-up short of its pace widens its window by half each second.</summary>
    private const double Widen = 1.5;

    /// <summary>
    /// The meter never holds a catch-up below this many events a second: with few producers sending there is CPU to
    /// spare, and 2.5 times a trickle would leave a large backlog for hours. A catch-up costs 12-15 µs per event
    /// (docs/benchmark.md, issue 18's sixteenth round), so this is 6-8 % of a core per spooler.
    /// </summary>
    public const double MeterFloor = 5_000;

    /// <summary>
    /// How much of its pace a metered catch-up may bank while it cannot hand over (waiting for a read-back, or its window
    /// full), to catch up on afterwards, and what it starts with: a quarter second, short enough that the burst does not
    /// stall live requests.
    /// </summary>
    private static readonly TimeSpan MeterBanks = TimeSpan.FromMilliseconds(250);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private readonly LinkedList<Segment> _segments = new();
    private readonly Dictionary<long, LinkedListNode<Segment>> _bySequenceNr = new();
    private readonly List<Segment> _failed = [];
    private LinkedListNode<Segment>? _next;
    private bool _readingBack;
    private readonly long _backlogWindow = backlogWindow;
    private long _catchUpWindow = backlogWindow;
    /// <summary>Batches that were spilled and are not yet confirmed: while there are any, a catch-up is under way.</summary>
    private int _spilledUndelivered;
    /// <summary>Spilled batches whose events are not in memory: what a read-back is for.</summary>
    private int _unloaded;
    /// <summary>No batch between <see cref="_next"/> and this one is waiting to be read back: where the search for the next one resumes.</summary>
    private LinkedListNode<Segment>? _readFrontier;
    private long _caughtUpSincePaced;
    /// <summary>Events a second the meter lets a catch-up hand over while producers are sending; 0: not metered.</summary>
    private double _meteredRate;
    /// <summary>Events the meter allows now (negative: a batch larger than the allowance went, and is paid back first).</summary>
    private double _allowance;
    private long _allowanceAt;

    /// <summary>Events journaled and not yet confirmed by Kafka.</summary>
    public long BacklogEvents { get; private set; }

    /// <summary>Payload bytes journaled and not yet confirmed by Kafka.</summary>
    public long BacklogBytes { get; private set; }

    /// <summary>Payload bytes of undelivered batches held in memory.</summary>
    public long MemoryBytes { get; private set; }

    /// <summary>Events handed to Kafka and not yet answered for.</summary>
    public long UnconfirmedEvents { get; private set; }

    /// <summary>The highest sequence number at and below which every batch is confirmed: what the journal may drop.</summary>
    public long DeliveredThrough { get; private set; }

    /// <summary>Undelivered batches.</summary>
    public int Batches => _segments.Count;

    /// <summary>Batches that were spilled are not all confirmed yet.</summary>
    public bool CatchingUp => _spilledUndelivered > 0;

    /// <summary>Events a catch-up may have unconfirmed while producers are sending (<see cref="PaceCatchUp"/> moves it).</summary>
    public long CatchUpWindow => _catchUpWindow;

    /// <summary>Tracks a journaled batch: in memory while the budget allows, else spilled.</summary>
    public void Append(long sequenceNr, SpoolBatch batch)
    {
        var keepInMemory = MemoryBytes + batch.PayloadBytes <= memoryBytes;
        var segment = new Segment(sequenceNr, batch.Events.Count, batch.PayloadBytes) { Events = keepInMemory ? batch.Events : null, Spilled = !keepInMemory };
        if (keepInMemory)
            MemoryBytes += batch.PayloadBytes;
        else
        {
            _spilledUndelivered++;
            _unloaded++;
        }

        var node = _segments.AddLast(segment);
        _bySequenceNr[sequenceNr] = node;
        _next ??= node;
        BacklogBytes += batch.PayloadBytes;
        BacklogEvents += batch.Events.Count;
    }

    /// <summary>
    /// After recovery: everything below the first replayed batch was truncated, so it was delivered, and so was every
    /// batch at or below <paramref name="markedDelivered"/> (the cursor the newest journal write recorded).
    /// </summary>
    public void Recovered(long lastSequenceNr, long markedDelivered)
    {
        while (_segments.First is { } first && first.Value.SequenceNr <= markedDelivered)
        {
            _segments.RemoveFirst();
            _bySequenceNr.Remove(first.Value.SequenceNr);
            BacklogBytes -= first.Value.Bytes;
            BacklogEvents -= first.Value.Count;
            if (first.Value.Events is not null)
                MemoryBytes -= first.Value.Bytes;
            else
                _unloaded--;
            if (first.Value.Spilled)
                _spilledUndelivered--;
        }
        _next = _segments.First;
        DeliveredThrough = _segments.First is { } oldest ? oldest.Value.SequenceNr - 1 : lastSequenceNr;
    }

    /// <summary>
    /// Where in Kafka the records of the undelivered batches can be: the positions known when the oldest of them was
    /// first handed over (batches are handed over in journal order), or <paramref name="now"/> when none has been.
    /// </summary>
    public KafkaPositions KafkaFrom(KafkaPositions now) =>
        _segments.First?.Value.KafkaFrom ?? now;

    /// <summary>
    /// The next thing to do for delivery, in journal order: hand a batch over while the window has room, else read a
    /// run of spilled batches back (asked once until <see cref="ReadBackCompleted"/> or <see cref="ReadBackFailed"/>);
    /// null when there is nothing to do now. The read-back does not wait for the window: the next spilled run is read
    /// while the batches before it are still with Kafka (as long as the memory budget has room for it), so that Kafka
    /// never waits for the journal.
    /// </summary>
    /// <param name="kafkaNow">Where Kafka's records are known to reach now: recorded with a batch handed over for the first time.</param>
    public DeliveryStep? Next(bool producersActive, KafkaPositions kafkaNow)
    {
        if (_next is not { } node)
            return null;
        var segment = node.Value;
        if (segment.Events is not null && UnconfirmedEvents < WindowFor(segment, producersActive) && MeterAllows(segment, producersActive))
        {
            UnconfirmedEvents += segment.Count;
            segment.KafkaFrom ??= kafkaNow;
            _next = node.Next;
            return new DeliveryStep.HandOver(new HandOff(segment.SequenceNr, segment.Events));
        }
        if (_readingBack || _unloaded == 0 || FirstUnloadedFrom(node) is not { } unloaded)
            return null;
        // The next batch is read back whatever memory holds (nothing else can move); one further ahead only while a
        // second run fits in the budget beside what is loaded.
        return unloaded == node || MemoryBytes <= memoryBytes / 2 ? ReadBackFrom(unloaded) : null;
    }

    private LinkedListNode<Segment>? FirstUnloadedFrom(LinkedListNode<Segment> next)
    {
        var node = _readFrontier is { List: not null } frontier && frontier.Value.SequenceNr > next.Value.SequenceNr ? frontier : next;
        while (node.Value.Events is not null)
        {
            if (node.Next is not { } after)
            {
                _readFrontier = node;
                return null;
            }
            node = after;
        }
        _readFrontier = node;
        return node;
    }

    private long WindowFor(Segment segment, bool producersActive) =>
        segment.Spilled && producersActive ? _catchUpWindow : liveWindow;

    /// <summary>A metered catch-up's batch goes only while the allowance, refilled at the metered rate, is positive.</summary>
    private bool MeterAllows(Segment segment, bool producersActive)
    {
        if (!segment.Spilled || !producersActive || _meteredRate <= 0)
            return true;
        var now = _clock.GetTimestamp();
        _allowance = AllowanceAt(now);
        _allowanceAt = now;
        if (_allowance <= 0)
            return false;
        _allowance -= segment.Count;
        return true;
    }

    /// <summary>
    /// How long until the meter lets the next batch of a catch-up go, when it holds one back now; null when it does
    /// not. The actor asks again then: nothing else may come to ask it sooner. Whether it holds one is the meter's last
    /// count (<see cref="Next"/> just refused the batch); what has refilled since only shortens the wait.
    /// </summary>
    public TimeSpan? MeteredFor(bool producersActive)
    {
        if (_meteredRate <= 0 || !producersActive || _next is not { Value: { Spilled: true, Events: not null } } || _allowance > 0)
            return null;
        var owed = -AllowanceAt(_clock.GetTimestamp());
        return TimeSpan.FromSeconds(Math.Max(owed, 0) / _meteredRate) + TimeSpan.FromMilliseconds(1);
    }

    /// <summary>The allowance at <paramref name="now"/>: refilled at the metered rate since it was last counted, up to what it banks.</summary>
    private double AllowanceAt(long now) =>
        Math.Min(Banked, _allowance + _meteredRate * _clock.GetElapsedTime(_allowanceAt, now).TotalSeconds);

    private double Banked => _meteredRate * MeterBanks.TotalSeconds;

    /// <summary>
    /// Called once a second with the events producers had stored in that second. While a catch-up is under way and
    /// producers are sending, its hand-overs are metered to catchUpPace times that (at least <see cref="MeterFloor"/>
    /// a second), and its window widens (up to the live window) as long as it delivered less: the backlog drains at
    /// the pace asked for, whatever the machine, and leaves the rest of the CPU to live requests. A window alone could
    /// not hold it back: at its narrowest, one batch at a time, a catch-up still delivered 4x the live rate on this
    /// machine, and live producers lost a tenth of their pace (docs/benchmark.md, issue 18's sixteenth round). Once
    /// nothing is left to catch up, the window is the backlog window again for the next outage, unmetered.
    /// </summary>
    public void PaceCatchUp(long intake)
    {
        var caughtUp = _caughtUpSincePaced;
        _caughtUpSincePaced = 0;
        if (_spilledUndelivered == 0)
        {
            _catchUpWindow = _backlogWindow;
            _meteredRate = 0;
            return;
        }
        if (catchUpPace <= 0 || intake == 0)
        {
            _meteredRate = 0;
            return;
        }
        var goal = catchUpPace * intake;
        var started = _meteredRate <= 0;
        _meteredRate = Math.Max(goal, MeterFloor);
        if (started)
        {
            _allowance = Banked;
            _allowanceAt = _clock.GetTimestamp();
        }
        if (caughtUp < goal)
            _catchUpWindow = Math.Min(Math.Max(liveWindow, _backlogWindow), Math.Max(_catchUpWindow + 1, (long)(_catchUpWindow * Widen)));
    }

    /// <summary>A run of spilled batches worth at most half the memory budget (at least one batch).</summary>
    private DeliveryStep.ReadBack ReadBackFrom(LinkedListNode<Segment> node)
    {
        var from = node.Value.SequenceNr;
        var to = from;
        long bytes = 0;
        for (var n = node; n is not null && n.Value.Events is null && (bytes == 0 || bytes + n.Value.Bytes <= memoryBytes / 2); n = n.Next)
        {
            bytes += n.Value.Bytes;
            to = n.Value.SequenceNr;
        }
        _readingBack = true;
        return new DeliveryStep.ReadBack(from, to);
    }

    /// <summary>Spilled batches read back from the journal: their events are in memory again, ready to hand over.</summary>
    public void ReadBackCompleted(IEnumerable<(long SequenceNr, SpoolBatch Batch)> batches)
    {
        _readingBack = false;
        foreach (var (sequenceNr, batch) in batches)
        {
            if (_bySequenceNr.TryGetValue(sequenceNr, out var node) && node.Value.Events is null)
            {
                node.Value.Events = batch.Events;
                MemoryBytes += node.Value.Bytes;
                _unloaded--;
            }
        }
    }

    /// <summary>The read failed: the next <see cref="Next"/> asks for it again.</summary>
    public void ReadBackFailed() => _readingBack = false;

    /// <summary>Kafka confirmed every event of a batch; returns how many, or null for a batch not tracked (already confirmed).</summary>
    public int? Confirmed(long sequenceNr)
    {
        if (!_bySequenceNr.TryGetValue(sequenceNr, out var node))
            return null;
        var segment = node.Value;
        if (segment.Delivered)
            return null;
        UnconfirmedEvents -= segment.Count;
        segment.Delivered = true;
        if (segment.Spilled)
        {
            _spilledUndelivered--;
            _caughtUpSincePaced += segment.Count;
        }
        MemoryBytes -= segment.Bytes;
        segment.Events = null;

        while (_segments.First is { Value.Delivered: true } first)
        {
            _segments.RemoveFirst();
            _bySequenceNr.Remove(first.Value.SequenceNr);
            BacklogBytes -= first.Value.Bytes;
            BacklogEvents -= first.Value.Count;
            DeliveredThrough = first.Value.SequenceNr;
        }
        return segment.Count;
    }

    /// <summary>Kafka did not confirm a batch: it waits for <see cref="TakeRetries"/>. Returns its size, or null when not tracked.</summary>
    public int? Unconfirmed(long sequenceNr)
    {
        if (!_bySequenceNr.TryGetValue(sequenceNr, out var node))
            return null;
        UnconfirmedEvents -= node.Value.Count;
        _failed.Add(node.Value);
        return node.Value.Count;
    }

    /// <summary>
    /// The batches Kafka did not confirm, handed over again as they are: a handed-over batch keeps its events until
    /// Kafka confirms it (the spooler leaves out what Kafka holds already). A retried batch may overtake later ones.
    /// </summary>
    public IReadOnlyList<HandOff> TakeRetries()
    {
        var retries = new List<HandOff>(_failed.Count);
        foreach (var segment in _failed)
        {
            UnconfirmedEvents += segment.Count;
            retries.Add(new HandOff(segment.SequenceNr, segment.Events!));
        }
        _failed.Clear();
        return retries;
    }

    /// <summary>A journaled batch as tracked until Kafka confirms it.</summary>
    private sealed class Segment(long sequenceNr, int count, long bytes)
    {
        public long SequenceNr { get; } = sequenceNr;
        public int Count { get; } = count;
        public long Bytes { get; } = bytes;
        /// <summary>The events, or null while spilled (only in the journal) or once delivered.</summary>
        public IReadOnlyList<SpooledEvent>? Events { get; set; }
        /// <summary>It was spilled when journaled: it belongs to a catch-up, even once read back.</summary>
        public bool Spilled { get; init; }
        public bool Delivered { get; set; }
        /// <summary>Where Kafka's records reached when it was first handed over: none of its records can be before that.</summary>
        public KafkaPositions? KafkaFrom { get; set; }
    }
}

/// <summary>What <see cref="DeliveryWindow.Next"/> asks the spooler to do.</summary>
public abstract record DeliveryStep
{
    /// <summary>Hand this batch to Kafka.</summary>
    public sealed record HandOver(HandOff Batch) : DeliveryStep;

    /// <summary>Read the spilled batches <paramref name="From"/> to <paramref name="To"/> back from the journal.</summary>
    public sealed record ReadBack(long From, long To) : DeliveryStep;
}
