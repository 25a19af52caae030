namespace AkkaCollector.Observability;

/// <summary>
/// The collector's first log line once it listens: the configuration it runs with, so a log read after an incident
/// says which spool bound, partitions and Kafka were in force. (The last line is shutdown's: how long it took and
/// how many events remain spooled, written by CollectorShutdownService once the host has stopped.)
/// </summary>
public static partial class LifecycleLog
{
    /// <summary>Logs the start-up summary when the host has started; the composition root says what is in force.</summary>
    public static WebApplication LogLifecycle(this WebApplication app, Func<IServiceProvider, StartupSummary> describe)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LifecycleLog).FullName!);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var summary = describe(app.Services);
            LogStarted(logger, string.Join(' ', app.Urls), summary.Partitions, summary.SpoolMaxBytes, summary.Journal,
                summary.KafkaMode, summary.KafkaBootstrap, summary.Topic, summary.Lookups);
        });
        return app;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message =
        "Collector started: listening on {Urls}; spool {Partitions} partitions bound at {SpoolMaxBytes} bytes, journal {Journal}; " +
        "Kafka {KafkaMode} {KafkaBootstrap} topic {Topic}; lookups {Lookups}")]
    private static partial void LogStarted(ILogger logger, string urls, int partitions, long spoolMaxBytes, string journal,
        string kafkaMode, string kafkaBootstrap, string topic, string lookups);
}

/// <summary>What the start-up line says is in force.</summary>
public sealed record StartupSummary(
    int Partitions, long SpoolMaxBytes, string Journal, string KafkaMode, string KafkaBootstrap, string Topic, string Lookups);
