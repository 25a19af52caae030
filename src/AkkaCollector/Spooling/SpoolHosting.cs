using Akka.Hosting;
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
        services.AddValidatedOptions<InstanceOptions>(configuration, InstanceOptions.Section);
        services.AddOptions<SpoolOptions>().Configure<IOptions<InstanceOptions>>((spool, instance) => spool.InstanceId = instance.Value.InstanceId);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SpoolOptions>>().Value;
            return new SpoolStatus(SpoolOptions.MaxPartitions, options.MaxBytesPerPartition, sp.GetRequiredService<ILogger<SpoolStatus>>(), options.Partitions);
        });
        services.AddSingleton<Spool>();
        services.AddSingleton<IEventSpool>(sp => sp.GetRequiredService<Spool>());
        return services;
    }

    /// <summary>
    /// Adds the journal's configuration (<see cref="SpoolJournalConfig"/>) behind the collector's own HOCON, and starts
    /// the spoolers when the actor system starts (each recovers and delivers what its journal holds).
    /// </summary>
    public static AkkaConfigurationBuilder WithCollectorSpool(this AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<SpoolOptions>>().Value;
        return builder
            .AddHocon(SpoolJournalConfig.For(options), HoconAddMode.Append)
            .AddSetup(SpoolJournalConfig.DataOptions(options))
            .WithActors((system, _, resolver) => resolver.GetService<Spool>().Start(system));
    }
}
