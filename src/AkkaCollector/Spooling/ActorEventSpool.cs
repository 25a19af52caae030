using System.Text;
using Akka.Actor;

namespace AkkaCollector.Spooling;

/// <summary>
/// The HTTP side's door to the spool: routes each event to its partition by hash(write key, user) so one user's
/// events keep their order, asks each partition involved, and answers Stored only when all of them stored.
/// </summary>
public sealed class ActorEventSpool(IReadOnlyList<IActorRef> partitions, TimeSpan writeTimeout) : IEventSpool
{
    public Task<SpoolOutcome> SpoolAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        // Most requests (every single event, and most batches of one user) touch one partition: no grouping then.
        var first = PartitionOf(events[0].WriteKey, events[0].PartitionKey, partitions.Count);
        for (var i = 1; i < events.Count; i++)
        {
            if (PartitionOf(events[i].WriteKey, events[i].PartitionKey, partitions.Count) != first)
                return SpoolAcrossPartitionsAsync(events, cancellationToken);
        }
        return StoreAsync(partitions[first], events, cancellationToken);
    }

    private async Task<SpoolOutcome> SpoolAcrossPartitionsAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        var groups = events.GroupBy(e => PartitionOf(e.WriteKey, e.PartitionKey, partitions.Count)).ToList();
        var replies = await Task.WhenAll(groups.Select(g => StoreAsync(partitions[g.Key], g.ToList(), cancellationToken)));
        // One partition's trouble fails the request: the producer retries it whole (at least once; messageIds de-duplicate).
        if (replies.Contains(SpoolOutcome.Failed))
            return SpoolOutcome.Failed;
        return replies.Contains(SpoolOutcome.Full) ? SpoolOutcome.Full : SpoolOutcome.Stored;
    }

    /// <summary>
    /// Hands the events to a partition with a completion the spooler answers directly. Unlike Ask, no temporary actor
    /// is registered and named per request. The completion runs the rest of the request where it is completed: the
    /// spooler completes a whole write's requests from one pool work item, never from its own thread
    /// (<see cref="SpoolRequester.AnswerAll"/>). A spooler that does not answer in time is a
    /// <see cref="TimeoutException"/> (503 "timeout").
    /// </summary>
    private async Task<SpoolOutcome> StoreAsync(IActorRef partition, IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<SpoolOutcome>();
        partition.Tell(new Enqueue(events, answer), ActorRefs.NoSender);
        return await answer.Task.WaitAsync(writeTimeout, cancellationToken);
    }

    /// <summary>FNV-1a over write key and user: stable across processes and restarts, unlike string.GetHashCode.</summary>
    public static int PartitionOf(string writeKey, string partitionKey, int partitionCount)
    {
        var hash = 2166136261u;
        hash = Mix(hash, writeKey);
        hash = (hash ^ 0) * 16777619u;
        hash = Mix(hash, partitionKey);
        return (int)(hash % (uint)partitionCount);
    }

    private static uint Mix(uint hash, string value)
    {
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(value) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(value, buffer)] : Encoding.UTF8.GetBytes(value);
        foreach (var b in bytes)
            hash = (hash ^ b) * 16777619u;
        return hash;
    }
}
