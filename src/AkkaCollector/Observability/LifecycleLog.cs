using AkkaCollector.Lookups;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Observability;

/// <summary>
/// The collector's first and last log lines: one line summarising the configuration it runs with once it listens
/// (so a log read after an incident says which spool bound, partitions and Kafka were in force) and one when the host
/// has stopped, after every shutdown phase (the last line a complete, flushed log ends with).
/// </summary>
public static partial class LifecycleLog
{
    /// <summary>Logs the start-up summary when the host has started and the stopped line when it has stopped.</summary>
    public static WebApplication LogLifecycle(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LifecycleLog).FullName!);
        app.Lifetime.ApplicationStarted.Register(() => LogStartedSummary(app, logger));
        app.Lifetime.ApplicationStopped.Register(() => LogStopped(logger));
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

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Collector stopped")]
    private static partial void LogStopped(ILogger logger);
}
