using Akka;
using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Sql;
using AkkaCollector.Shutdown;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Spooling;

/// <summary>Wiring of the spool: <c>services.AddCollectorSpool(configuration)</c> and <c>akka.WithCollectorSpool(provider)</c>.</summary>
public static class SpoolHosting
{
    /// <summary>Binds Spool:* (validated at start) and registers the spool, its status and <see cref="IEventSpool"/>.</summary>
    public static IServiceCollection AddCollectorSpool(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<SpoolOptions>(configuration, SpoolOptions.Section);
        services.AddSingleton<IValidateOptions<SpoolOptions>, SpoolOptionsValidator>();
        services.AddSingleton(sp => new SpoolStatus(
            SpoolOptions.MaxPartitions, sp.GetRequiredService<IOptions<SpoolOptions>>().Value.MaxBytesPerPartition, sp.GetRequiredService<ILogger<SpoolStatus>>()));
        services.AddSingleton<Spool>();
        services.AddSingleton<IEventSpool>(sp => sp.GetRequiredService<Spool>());
        services.AddSingleton<ISpoolBacklog>(sp => sp.GetRequiredService<SpoolStatus>());
        return services;
    }

    /// <summary>
    /// Loads hocon/spool.conf, points the journal at Spool:Provider / Spool:ConnectionString / Spool:Path, and starts
    /// the spoolers when the actor system starts (each recovers and delivers what its journal holds).
    /// </summary>
    /// <remarks>
    /// In before-actor-system-terminate (after service-stop's last Kafka flush) every spooler truncates what Kafka
    /// confirmed, so a graceful restart does not send the last second of traffic again.
    /// </remarks>
    public static AkkaConfigurationBuilder WithCollectorSpool(this AkkaConfigurationBuilder builder, IServiceProvider provider, ShutdownSettings shutdown)
    {
        var options = provider.GetRequiredService<IOptions<SpoolOptions>>().Value;
        return builder
            .AddHocon(Spool.JournalConfig(options), HoconAddMode.Prepend)
            .AddHoconFile(CollectorHocon.PathOf("spool.conf"), HoconAddMode.Append)
            .AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append)
            .AddSetup(Spool.JournalDataOptions(options))
            .WithActors((system, _, resolver) =>
            {
                var spool = resolver.GetService<Spool>();
                spool.Start(system);
                var coordinated = CoordinatedShutdown.Get(system);
                var budget = shutdown.Plan.TimeoutOf(CoordinatedShutdown.PhaseBeforeActorSystemTerminate) * 0.8;
                coordinated.AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "spool-truncate",
                    () => spool.TruncateDeliveredAsync(budget));
            });
    }
}
