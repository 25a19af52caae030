using Microsoft.Extensions.Logging.Console;

namespace AkkaCollector.Observability;

/// <summary>
/// Console logging in one of two shapes, chosen by <c>Logging:Format</c>: <c>simple</c> (default: one line per
/// entry, UTC timestamps, for people and journald) or <c>json</c> (one JSON object per line with every structured
/// field, for log shippers). Entries go through the console logger's queue, a background thread writing to stdout:
/// when the queue is full a logging call waits rather than drops the entry (an incident's burst is the log that
/// matters), and the host disposes the logger provider when it stops, which drains the queue before the process
/// exits, so the shutdown lines are not lost (CollectorLogTests checks the last line arrives after SIGTERM).
/// </summary>
public static class CollectorLogging
{
    /// <summary>The configuration key that selects the format.</summary>
    public const string FormatKey = "Logging:Format";

    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";

    /// <summary>Selects the console formatter; refuses to start on an unknown format rather than guess.</summary>
    public static ILoggingBuilder AddCollectorConsole(this ILoggingBuilder logging, IConfiguration configuration)
    {
        var format = configuration[FormatKey] ?? "simple";
        logging.Services.Configure<ConsoleLoggerOptions>(options => options.QueueFullMode = ConsoleLoggerQueueFullMode.Wait);
        if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            logging.AddJsonConsole(options =>
            {
                options.UseUtcTimestamp = true;
                options.TimestampFormat = TimestampFormat.TrimEnd();
            });
        }
        else if (string.Equals(format, "simple", StringComparison.OrdinalIgnoreCase))
        {
            logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = TimestampFormat;
                options.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
        else
        {
            throw new InvalidOperationException($"{FormatKey} must be 'simple' or 'json', not '{format}'.");
        }
        return logging;
    }
}
