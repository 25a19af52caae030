using System.Text;
using Akka.Actor;

namespace AkkaCollector.Spooling;

/// <summary>
/// The HTTP side's door to the spool: routes each event to its partition by hash(write key, user) so one user's
/// events keep their order, asks each partition involved, and answers Stored only when all of them stored.
/// </summary>
public sealed class ActorEventSpool(IReadOnlyList<IActorRef> partitions, TimeSpan writeTimeout) : IEventSpool
{
    public async Task<SpoolOutcome> SpoolAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        var groups = events.GroupBy(e => PartitionOf(e.WriteKey, e.PartitionKey, partitions.Count)).ToList();
        var replies = await Task.WhenAll(groups.Select(g => AskPartition(partitions[g.Key], g.ToList(), cancellationToken)));
        // One partition's trouble fails the request: the producer retries it whole (at least once; messageIds de-duplicate).
        if (replies.Contains(SpoolOutcome.Failed))
            return SpoolOutcome.Failed;
        return replies.Contains(SpoolOutcome.Full) ? SpoolOutcome.Full : SpoolOutcome.Stored;
    }

    private async Task<SpoolOutcome> AskPartition(IActorRef partition, IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await partition.Ask<SpoolReply>(new Enqueue(events), writeTimeout, cancellationToken);
            return reply.Outcome;
        }
        catch (AskTimeoutException)
        {
            return SpoolOutcome.Failed;
        }
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
