using Akka.Actor;
using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

/// <summary>
/// A spooler's child that hands its batches to the Kafka producer, in the order it is told. Handing over costs a few
/// microseconds per event (headers, the producer's queue): 5 000 events after an outage are tens of milliseconds, and
/// done in the spooler they held up every request waiting in its mailbox (ingest fell to a fifth of the offered rate
/// while a backlog drained, docs/benchmark.md). Here they run beside the spooler, and
/// Kafka's answer for each batch comes back to the spooler as its own <see cref="BatchDelivered"/>.
/// </summary>
public sealed class HandOffActor : ReceiveActor
{
    private readonly IEventPublisher _publisher;
    private readonly IActorRef _spooler;
    private readonly string _spool;

    public HandOffActor(IEventPublisher publisher, IActorRef spooler, string spool)
    {
        _publisher = publisher;
        _spooler = spooler;
        _spool = spool;
        Receive<HandOff>(HandleHandOff);
    }

    public static Props Props(IEventPublisher publisher, IActorRef spooler, string spool) =>
        Akka.Actor.Props.Create(() => new HandOffActor(publisher, spooler, spool));

    private void HandleHandOff(HandOff batch)
    {
        var spooler = _spooler;
        _publisher.Publish(batch.Events, _spool, (error, confirmed) => spooler.Tell(new BatchDelivered(batch.SequenceNr, error, confirmed)));
    }
}
