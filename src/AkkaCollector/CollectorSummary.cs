using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using Microsoft.Extensions.Options;

namespace AkkaCollector;

/// <summary>The composition root's account of what is in force, for the start-up log line.</summary>
public static class CollectorSummary
{
    public static StartupSummary Describe(IServiceProvider services)
    {
        var spool = services.GetRequiredService<IOptions<SpoolOptions>>().Value;
        var kafka = services.GetRequiredService<KafkaConnection>();
        var topic = services.GetRequiredService<IOptions<KafkaOptions>>().Value.Topic;
        var lookups = services.GetRequiredService<IRequestLookups>() is NoLookups ? "off" : "on";
        // The PostgreSQL connection string may carry a password: only the SQLite folder is named.
        var journal = (spool.Provider == "sqlite" && spool.ConnectionString is null ? $"sqlite at {Path.GetFullPath(spool.Path)}" : spool.Provider) +
                      $" as instance {spool.InstanceId}";
        return new StartupSummary(spool.Partitions, spool.MaxBytes, journal,
            kafka.IsEmbedded ? "embedded mock" : "bootstrap", kafka.BootstrapServers, topic, lookups);
    }
}
