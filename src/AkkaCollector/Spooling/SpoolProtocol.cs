// The spooler's protocol: every message a SpoolerActor takes or sends, in one place.

using Akka.Actor;
using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

/// <summary>
/// Store these events; the answer comes once they are on disk, or why not: to <paramref name="Completion"/> when given
/// (the HTTP side: no temporary actor, no timer of its own, no extra hop per request), else as a <see cref="SpoolReply"/> to the sender.
/// </summary>
public sealed record Enqueue(IReadOnlyList<SpooledEvent> Events, SpoolAnswer? Completion = null)
{
    public SpoolRequester RequesterFrom(IActorRef sender) => new(sender, Completion);
}

/// <summary>The spool's answer to an <see cref="Enqueue"/>.</summary>
public sealed record SpoolReply(SpoolOutcome Outcome)
{
    public static readonly SpoolReply Stored = new(SpoolOutcome.Stored);
    public static readonly SpoolReply Full = new(SpoolOutcome.Full);
    public static readonly SpoolReply Failed = new(SpoolOutcome.Failed);
}

/// <summary>Give this journaled batch to Kafka; the spooler hears back through <see cref="BatchDelivered"/>.</summary>
public sealed record HandOff(long SequenceNr, IReadOnlyList<SpooledEvent> Events);

/// <summary>Kafka's verdict on a whole batch: Error is null when every event in it was confirmed; Confirmed says where confirmed records landed.</summary>
public sealed record BatchDelivered(long SequenceNr, string? Error, KafkaPositions Confirmed);

/// <summary>Truncate what Kafka has confirmed now, without waiting for the pacing interval; answered with <see cref="Truncated"/>.</summary>
public sealed record TruncateNow
{
    public static readonly TruncateNow Instance = new();
}

/// <summary>The journal holds nothing at or below <paramref name="TruncatedThrough"/> any more.</summary>
public sealed record Truncated(long TruncatedThrough);

/// <summary>What a spooler does with its spool: this collector's own (takes events), or one to drain and let go (taken over).</summary>
public enum SpoolRole
{
    Own,
    Drain,
}

/// <summary>A drained spool is delivered and truncated through its fence: its claim can be given up.</summary>
public sealed record SpoolDrained(SpoolId Spool, long EventsDelivered);

/// <summary>Another collector took these spools over while this one was cut off or paused: their spoolers stop.</summary>
public sealed record OwnershipLost(IReadOnlyList<SpoolId> Spools);

/// <summary>Asks a spooler for its counters (tests and diagnostics).</summary>
public sealed record GetSpoolState
{
    public static readonly GetSpoolState Instance = new();
}

/// <summary>A spooler's counters.</summary>
public sealed record SpoolState(long BacklogEvents, long BacklogBytes, long MemoryBytes, long DeliveredThrough, long TruncatedThrough, long LastSequenceNr);

internal sealed record SpilledBatchesLoaded(IReadOnlyList<(long SequenceNr, SpoolBatch Batch)> Batches);

internal sealed record SpilledBatchesFailed(Exception Cause);

internal sealed record RetryFailedDeliveries;

internal sealed record TruncationDue
{
    public static readonly TruncationDue Instance = new();
}

internal sealed record RetryReload;

internal sealed record PaceCatchUp
{
    public static readonly PaceCatchUp Instance = new();
}

/// <summary>The meter lets a catch-up's next batch go now.</summary>
internal sealed record ResumeCatchUp
{
    public static readonly ResumeCatchUp Instance = new();
}

/// <param name="StoredHere">Of the events sought, those this collector's own spoolers stored too (a drain asks them; see <see cref="WhichAreStored"/>).</param>
internal sealed record KafkaReadBackDone(KafkaReadBackResult Result, IReadOnlySet<RecordId> StoredHere);

/// <summary>
/// A drain asks this collector's own spoolers which of a taken-over spool's newest events they stored too: a request the
/// gone collector stored and never answered, which the load balancer replayed here. Such a copy is on this collector's
/// disk and its own spooler delivers it, so the drain leaves its copy out, whether or not Kafka has the other yet.
/// </summary>
internal sealed record WhichAreStored(IReadOnlySet<RecordId> Ids);

/// <summary>The answer to <see cref="WhichAreStored"/>: the ids this spooler's journal holds (durably written, within its de-duplication window).</summary>
internal sealed record StoredHere(IReadOnlySet<RecordId> Ids);

internal sealed record KafkaReadBackFailed(Exception Cause);

internal sealed record RetryKafkaReadBack;

internal sealed record RetryReadBackDone(IReadOnlyList<HandOff> Retries, KafkaReadBackResult Result);

internal sealed record RetryReadBackFailed(IReadOnlyList<HandOff> Retries, Exception Cause);

/// <summary>A commit delay has passed (invariant 2): the write it held back starts. Dropped quietly if the spooler stopped meanwhile.</summary>
internal sealed record CommitDelayPassed : Akka.Event.IDeadLetterSuppression
{
    public static readonly CommitDelayPassed Instance = new();
}

/// <summary>Write what waits: sent by the spooler to itself where a write started directly would not be flushed.</summary>
internal sealed record WriteWaiting
{
    public static readonly WriteWaiting Instance = new();
}
