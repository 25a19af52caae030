using Akka.Actor;
using AkkaCollector.Spooling;

namespace AkkaCollector.Publishing;

/// <summary>Hands a journaled batch to Kafka; tells <paramref name="spooler"/> one <see cref="BatchDelivered"/> when Kafka has answered for every event.</summary>
public interface IEventPublisher
{
    void Publish(long sequenceNr, IReadOnlyList<SpooledEvent> events, IActorRef spooler);
}
