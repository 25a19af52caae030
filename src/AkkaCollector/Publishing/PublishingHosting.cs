using Akka;
using Akka.Actor;
using Akka.Hosting;
using AkkaCollector.LiveEvents;
using AkkaCollector.Shutdown;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Publishing;

/// <summary>Wiring of delivery to Kafka: <c>services.AddCollectorPublishing(configuration)</c>.</summary>
public static class PublishingHosting
{
    /// <summary>Binds Kafka:* (validated at start) and registers the connection (embedded mock when no bootstrap servers are set) and the publisher.</summary>
    public static IServiceCollection AddCollectorPublishing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KafkaOptions>(configuration, KafkaOptions.Section);
        services.AddSingleton<KafkaConnection>();
        services.AddSingleton(sp => new KafkaPublisher(
            sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
            sp.GetRequiredService<KafkaConnection>().BootstrapServers,
            sp.GetRequiredService<ILogger<KafkaPublisher>>(),
            sp.GetService<LiveEventsRecorder>()));
        services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<KafkaPublisher>());
        return services;
    }

    /// <summary>
    /// Shutdown's part of delivery: in service-stop the producer gets until the phase's deadline to deliver what it
    /// holds (what it cannot stays in the journal for the next start); in before-actor-system-terminate it closes.
    /// </summary>
    public static AkkaConfigurationBuilder WithCollectorPublishing(this AkkaConfigurationBuilder builder, ShutdownSettings shutdown) =>
        builder.WithActors((system, _, resolver) =>
        {
            var publisher = resolver.GetService<KafkaPublisher>();
            var logger = resolver.GetService<ILogger<KafkaPublisher>>();
            // Leave a little of the phase for the log line and the phase machinery itself.
            var flushDeadline = shutdown.Plan.TimeoutOf(CoordinatedShutdown.PhaseServiceStop) * 0.9;
            var coordinated = CoordinatedShutdown.Get(system);
            coordinated.AddTask(CoordinatedShutdown.PhaseServiceStop, "kafka-flush", () => Task.Run(() =>
            {
                var outstanding = publisher.Flush(flushDeadline);
                logger.LogInformation("Shutdown phase {Phase}: Kafka flush {Outcome}", CoordinatedShutdown.PhaseServiceStop,
                    outstanding == 0 ? "complete" : $"cut at the {flushDeadline.TotalSeconds:0.##}s deadline with {outstanding} records unconfirmed (they stay in the journal)");
                return Done.Instance;
            }));
            coordinated.AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "kafka-close", () => Task.Run(() =>
            {
                publisher.Dispose();
                return Done.Instance;
            }));
        });
}
