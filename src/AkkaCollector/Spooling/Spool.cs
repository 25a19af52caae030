using System.Text;
using Akka;
using Akka.Actor;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Spooling;

/// <summary>
/// The spool as a whole, and the HTTP side's door to it (<see cref="IEventSpool"/>): starts one
/// <see cref="SpoolPartition"/> per configured partition when the actor system starts, routes each event to its
/// partition by hash(write key, user) so one user's events keep their order, hands each partition involved its
/// events, and answers Stored only when all of them stored.
/// </summary>
public sealed class Spool : IEventSpool
{
    private readonly SpoolOptions _options;
    private readonly SpoolStatus? _status;
    private readonly IEventPublisher? _publisher;
    private readonly IKafkaReadBack? _kafkaReadBack;
    private readonly ILogger _logger;

    public Spool(IOptions<SpoolOptions> options, SpoolStatus status, IEventPublisher publisher, IKafkaReadBack kafkaReadBack, ILogger<Spool> logger)
    {
        _options = options.Value;
        _status = status;
        _publisher = publisher;
        _kafkaReadBack = kafkaReadBack;
        _logger = logger;
    }

    /// <summary>A spool over partitions already running (the specs' probes and spoolers); it starts none itself.</summary>
    internal Spool(IReadOnlyList<IActorRef> partitions, TimeSpan writeTimeout)
    {
        _options = new SpoolOptions { Partitions = partitions.Count, WriteTimeout = writeTimeout };
        _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        Partitions = partitions;
    }

    /// <summary>Spooler parents by partition, once started.</summary>
    public IReadOnlyList<IActorRef> Partitions { get; private set; } = [];

    /// <summary>Starts the spoolers; each recovers its undelivered batches from the journal and delivers them.</summary>
    public void Start(ActorSystem system)
    {
        var reader = new SqlSpoolReader(system);
        CollectorMetrics.SpoolMaxBytes.Set(_options.MaxBytes);
        Partitions = Enumerable.Range(0, _options.Partitions).Select(p => StartPartition(system, p, reader)).ToList();
        _ = DrainOrphanedPartitionsAsync(system, reader);
    }

    private IActorRef StartPartition(ActorSystem system, int partition, ISpoolReader reader) =>
        system.ActorOf(SpoolPartition.Props(SpoolerActor.Props(partition, _options, _status!, _publisher!, reader, _kafkaReadBack!)), $"spool-{partition}");

    /// <summary>
    /// Spool:Partitions may have been lowered since the journal was written: spools numbered at or above it still
    /// hold acknowledged events. They get a spooler too, which takes no new events but delivers what they hold.
    /// </summary>
    private async Task DrainOrphanedPartitionsAsync(ActorSystem system, SqlSpoolReader reader)
    {
        try
        {
            foreach (var partition in await reader.PartitionsInJournalAsync())
            {
                if (partition < _options.Partitions)
                    continue;
                _logger.LogWarning("The journal holds spool-{Partition} but Spool:Partitions is {Partitions}: delivering what it holds", partition, _options.Partitions);
                StartPartition(system, partition, reader);
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Could not list the spools in the journal; spools beyond Spool:Partitions (if any) are not delivered until the next start");
        }
    }

    /// <summary>Asks every spooler to truncate what Kafka has confirmed, waiting at most <paramref name="budget"/>.</summary>
    public async Task<Done> TruncateDeliveredAsync(TimeSpan budget)
    {
        try
        {
            await Task.WhenAll(Partitions.Select(p => p.Ask<Truncated>(TruncateNow.Instance, budget)));
        }
        catch (AskTimeoutException)
        {
            _logger.LogWarning("Shutdown: the journal was not truncated within {Budget}; the next start replays the last delivered batches and reads Kafka back to skip them", budget);
        }
        return Done.Instance;
    }


    public Task<SpoolOutcome> SpoolAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        if (Partitions.Count == 0)
            throw new InvalidOperationException("The spool has not started");
        // Most requests (every single event, and most batches of one user) touch one partition: no grouping then.
        var first = PartitionOf(events[0].WriteKey, events[0].PartitionKey, Partitions.Count);
        for (var i = 1; i < events.Count; i++)
        {
            if (PartitionOf(events[i].WriteKey, events[i].PartitionKey, Partitions.Count) != first)
                return SpoolAcrossPartitionsAsync(events, cancellationToken);
        }
        return StoreAsync(Partitions[first], events, cancellationToken);
    }

    private async Task<SpoolOutcome> SpoolAcrossPartitionsAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        var groups = events.GroupBy(e => PartitionOf(e.WriteKey, e.PartitionKey, Partitions.Count)).ToList();
        var replies = await Task.WhenAll(groups.Select(g => StoreAsync(Partitions[g.Key], g.ToList(), cancellationToken)));
        // One partition's trouble fails the request: the producer retries it whole; the partitions that stored their part drop it then (invariant 7).
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
        return await answer.Task.WaitAsync(_options.WriteTimeout, cancellationToken);
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
