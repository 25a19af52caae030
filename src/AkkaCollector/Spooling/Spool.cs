using Akka;
using Akka.Actor;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Spooling;

/// <summary>
/// The spool as a whole: starts one <see cref="SpoolPartition"/> per configured partition when the actor system
/// starts, and is the <see cref="IEventSpool"/> the HTTP side talks to.
/// </summary>
public sealed class Spool(IOptions<SpoolOptions> options, SpoolStatus status, IEventPublisher publisher, ILogger<Spool> logger) : IEventSpool
{
    private ActorEventSpool? _router;

    /// <summary>Spooler parents by partition, once started.</summary>
    public IReadOnlyList<IActorRef> Partitions { get; private set; } = [];

    /// <summary>Starts the spoolers; each recovers its undelivered batches from the journal and delivers them.</summary>
    public void Start(ActorSystem system)
    {
        var reader = new SqlSpoolReader(system);
        CollectorMetrics.SpoolMaxBytes.Set(options.Value.MaxBytes);
        Partitions = Enumerable.Range(0, options.Value.Partitions).Select(p => StartPartition(system, p, reader)).ToList();
        _router = new ActorEventSpool(Partitions, options.Value.WriteTimeout);
        _ = DrainOrphanedPartitionsAsync(system, reader);
    }

    private IActorRef StartPartition(ActorSystem system, int partition, ISpoolReader reader) =>
        system.ActorOf(SpoolPartition.Props(SpoolerActor.Props(partition, options.Value, status, publisher, reader)), $"spool-{partition}");

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
                if (partition < options.Value.Partitions)
                    continue;
                logger.LogWarning("The journal holds spool-{Partition} but Spool:Partitions is {Partitions}: delivering what it holds", partition, options.Value.Partitions);
                StartPartition(system, partition, reader);
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not list the spools in the journal; spools beyond Spool:Partitions (if any) are not delivered until the next start");
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
            logger.LogWarning("Shutdown: the journal was not truncated within {Budget}; the next start sends the last delivered events again (at least once)", budget);
        }
        return Done.Instance;
    }

    public Task<SpoolOutcome> SpoolAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken) =>
        (_router ?? throw new InvalidOperationException("The spool has not started")).SpoolAsync(events, cancellationToken);
}
