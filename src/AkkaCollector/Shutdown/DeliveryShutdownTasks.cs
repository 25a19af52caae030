using Akka;
using Akka.Actor;
using Akka.Hosting;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;

namespace AkkaCollector.Shutdown;

/// <summary>
/// Shutdown's part in delivery, driven through what the spool and the publisher expose. In service-stop the producer
/// gets until the phase's deadline to deliver what it holds (what it cannot stays in the journal for the next start).
/// In before-actor-system-terminate every spooler truncates what Kafka confirmed, so a graceful restart does not send
/// the last second of traffic again, and the producer closes.
/// </summary>
public static class DeliveryShutdownTasks
{
    public static AkkaConfigurationBuilder WithDeliveryShutdownTasks(this AkkaConfigurationBuilder builder, ShutdownSettings shutdown) =>
        builder.WithActors((system, _, resolver) =>
        {
            var publisher = resolver.GetService<KafkaPublisher>();
            var spool = resolver.GetService<Spool>();
            var logger = resolver.GetService<ILogger<KafkaPublisher>>();
            // Leave a little of each phase for the log line and the phase machinery itself.
            var flushDeadline = shutdown.Plan.TimeoutOf(CoordinatedShutdown.PhaseServiceStop) * 0.9;
            var truncationBudget = shutdown.Plan.TimeoutOf(CoordinatedShutdown.PhaseBeforeActorSystemTerminate) * 0.8;
            var coordinated = CoordinatedShutdown.Get(system);
            coordinated.AddTask(CoordinatedShutdown.PhaseServiceStop, "kafka-flush", () => Task.Run(() =>
            {
                var outstanding = publisher.Flush(flushDeadline);
                logger.LogInformation("Shutdown phase {Phase}: Kafka flush {Outcome}", CoordinatedShutdown.PhaseServiceStop,
                    outstanding == 0 ? "complete" : $"cut at the {flushDeadline.TotalSeconds:0.##}s deadline with {outstanding} records unconfirmed (they stay in the journal)");
                return Done.Instance;
            }));
            coordinated.AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "spool-truncate",
                () => spool.TruncateDeliveredAsync(truncationBudget));
            coordinated.AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "kafka-close", () => Task.Run(() =>
            {
                publisher.Dispose();
                return Done.Instance;
            }));
        });
}
