using AkkaCollector.Lookups;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Observability;

/// <summary>
/// The collector's first log line once it listens: the configuration it runs with, so a log read after an incident
/// says which spool bound, partitions and Kafka were in force. (The last line is shutdown's: how long it took and
/// how many events remain spooled, written by CollectorShutdownService once the host has stopped.)
/// </summary>
public static partial class LifecycleLog
{
    /// <summary>Logs the start-up summary when the host has started.</summary>
    public static WebApplication LogLifecycle(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LifecycleLog).FullName!);
        app.Lifetime.ApplicationStarted.Register(() => LogStartedSummary(app, logger));
        return app;
    }

    private static void LogStartedSummary(WebApplication app, ILogger logger)
    {
        var spool = app.Services.GetRequiredService<IOptions<SpoolOptions>>().Value;
        var kafka = app.Services.GetRequiredService<KafkaConnection>();
        var topic = app.Services.GetRequiredService<IOptions<KafkaOptions>>().Value.Topic;
        var lookups = app.Services.GetRequiredService<IRequestLookups>() is NoLookups ? "off" : "on";
        // The PostgreSQL connection string may carry a password: only the SQLite folder is named.
        var journal = spool.Provider == "sqlite" && spool.ConnectionString is null ? $"sqlite at {Path.GetFullPath(spool.Path)}" : spool.Provider;
        LogStarted(logger, string.Join(' ', app.Urls), spool.Partitions, spool.MaxBytes, journal,
            kafka.IsEmbedded ? "embedded mock" : "bootstrap", kafka.BootstrapServers, topic, lookups);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message =
        "Collector started: listening on {Urls}; spool {Partitions} partitions bound at {SpoolMaxBytes} bytes, journal {Journal}; " +
        "Kafka {KafkaMode} {KafkaBootstrap} topic {Topic}; lookups {Lookups}")]
    private static partial void LogStarted(ILogger logger, string urls, int partitions, long spoolMaxBytes, string journal,
        string kafkaMode, string kafkaBootstrap, string topic, string lookups);
}
