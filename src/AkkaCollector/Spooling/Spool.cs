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
    private readonly WriteDeadlines _deadlines;

    public Spool(IOptions<SpoolOptions> options, SpoolStatus status, IEventPublisher publisher, IKafkaReadBack kafkaReadBack, ILogger<Spool> logger)
    {
        _options = options.Value;
        _status = status;
        _publisher = publisher;
        _kafkaReadBack = kafkaReadBack;
        _logger = logger;
        _deadlines = new WriteDeadlines(_options.WriteTimeout);
    }

    /// <summary>A spool over partitions already running (the specs' probes and spoolers); it starts none itself.</summary>
    internal Spool(IReadOnlyList<IActorRef> partitions, TimeSpan writeTimeout)
    {
        _options = new SpoolOptions { Partitions = partitions.Count, WriteTimeout = writeTimeout };
        _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _deadlines = new WriteDeadlines(writeTimeout);
        Partitions = partitions;
    }

    /// <summary>Spooler parents by partition, once started.</summary>
    public IReadOnlyList<IActorRef> Partitions { get; private set; } = [];

    /// <summary>
    /// Starts the spoolers of this collector's own spools (each claims its spool, recovers its undelivered batches from
    /// the journal and delivers them), and <see cref="SpoolTakeover"/>, which drains spools nobody else delivers.
    /// </summary>
    public void Start(ActorSystem system)
    {
        var reader = new SqlSpoolReader(system);
        ISpoolOwnership ownership = _options.Provider == "postgresql" ? new PostgresOwnership(_options, _logger) : new FileOwnership(reader.SpoolsInJournalAsync);
        ownership.Lost += lost =>
        {
            ExitIfKafkaHoldsBatchesOfLostSpools(lost);
            system.EventStream.Publish(new OwnershipLost(lost));
        };
        CollectorMetrics.SpoolMaxBytes.Set(_options.MaxBytes);
        var own = Enumerable.Range(0, _options.Partitions).Select(p => new SpoolId(_options.InstanceId, p)).ToList();
        Partitions = own.Select(spool => system.ActorOf(PartitionProps(spool, SpoolRole.Own, reader, ownership), $"spool-{spool.Partition}")).ToList();
        var partitions = Partitions;
        system.ActorOf(SpoolTakeover.Props(own.ToHashSet(), ownership, spool => PartitionProps(spool, SpoolRole.Drain, reader, ownership, partitions)), "spool-takeover");
    }

    private Props PartitionProps(SpoolId spool, SpoolRole role, ISpoolReader reader, ISpoolOwnership ownership, IReadOnlyList<IActorRef>? localSpools = null) =>
        SpoolPartition.For(spool, role, _options, _status, _publisher!, reader, _kafkaReadBack!, ownership, localSpools);

    /// <summary>
    /// A spool taken over is delivered from its journal by its new owner. Records this process handed to the Kafka
    /// client before and that Kafka has not answered for would then reach the topic a second time,
    /// and no client call takes them back reliably: the process ends at once (_exit, no shutdown, so no flush) and they
    /// die with it. Its process manager starts it again; it claims its spools back once they are free.
    /// </summary>
    private void ExitIfKafkaHoldsBatchesOfLostSpools(IReadOnlyList<SpoolId> lost)
    {
        var unanswered = _publisher!.Unanswered;
        _logger.LogWarning("Spools {Spools} were taken over by another collector while this one was cut off or paused; their spoolers stop, claiming them again once let go",
            string.Join(", ", lost));
        if (unanswered == 0)
            return;
        // Written synchronously: the logger's queue would not be flushed before _exit.
        Console.Error.WriteLine($"Spools {string.Join(", ", lost)} were taken over while Kafka had not answered for {unanswered} records handed over by this process; " +
            $"exiting with {LostClaimsExitCode} so they are never sent after the spools' new owner delivers them");
        Console.Error.Flush();
        ExitNow(LostClaimsExitCode);
    }

    /// <summary>Exit code after lost claims (sysexits' EX_TEMPFAIL): start the collector again.</summary>
    public const int LostClaimsExitCode = 75;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitNow(int status);

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
    /// Hands the events to a partition with an answer the spooler completes directly. Unlike Ask, no temporary actor
    /// is registered and named per request. The answer runs the rest of the request where it is completed: the
    /// spooler completes a whole write's requests from one pool work item, never from its own thread
    /// (<see cref="SpoolRequester.AnswerAll"/>). A spooler that does not answer in time is a
    /// <see cref="TimeoutException"/> (503 "timeout"), from <see cref="WriteDeadlines"/>' one timer.
    /// </summary>
    private Task<SpoolOutcome> StoreAsync(IActorRef partition, IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        var answer = _deadlines.Start(cancellationToken);
        partition.Tell(new Enqueue(events, answer), ActorRefs.NoSender);
        return answer.Task;
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
