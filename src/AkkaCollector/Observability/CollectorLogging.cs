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

    private const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Why the logging settings cannot be used, one line each: a <c>Logging:Format</c> other than simple or json (the
    /// start is refused rather than a format guessed), and any log level (<c>Logging:LogLevel:*</c>, or a provider's
    /// <c>Logging:Console:LogLevel:*</c>) that is not one of <see cref="LogLevel"/>'s names, which the logging options
    /// would otherwise throw on with a stack trace at the first logger.
    /// </summary>
    public static IEnumerable<string> Problems(IConfiguration configuration)
    {
        if (configuration[FormatKey] is { } format && !IsJson(format) && !string.Equals(format, "simple", StringComparison.OrdinalIgnoreCase))
            yield return $"{FormatKey} = '{format}': must be simple or json";
        var logging = configuration.GetSection("Logging");
        var levelSections = logging.GetChildren().Select(provider => provider.GetSection("LogLevel")).Prepend(logging.GetSection("LogLevel"));
        foreach (var level in levelSections.SelectMany(section => section.GetChildren()))
        {
            // As the logging options read a level: a name of LogLevel in any case, and an empty value means none.
            if (!string.IsNullOrEmpty(level.Value) && !Enum.TryParse<LogLevel>(level.Value, ignoreCase: true, out _))
                yield return $"{level.Path} = '{level.Value}': not a log level; write Trace, Debug, Information, Warning, Error, Critical or None";
        }
    }

    /// <summary>Selects the console formatter; <see cref="Problems"/> has refused any other than simple and json.</summary>
    public static ILoggingBuilder AddCollectorConsole(this ILoggingBuilder logging, IConfiguration configuration)
    {
        var format = configuration[FormatKey] ?? "simple";
        // While this category is enabled at all, even only for Critical, ASP.NET Core starts an Activity and a logging
        // scope for every request (about 7 % of a single event's allocations, docs/benchmark.md); it writes nothing above
        // Information. Off unless the configuration names it (Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics).
        if (configuration[$"Logging:LogLevel:{HostingDiagnosticsCategory}"] is null)
            logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);
        logging.Services.Configure<ConsoleLoggerOptions>(options => options.QueueFullMode = ConsoleLoggerQueueFullMode.Wait);
        if (IsJson(format))
        {
            logging.AddJsonConsole(options =>
            {
                options.UseUtcTimestamp = true;
                options.TimestampFormat = TimestampFormat.TrimEnd();
            });
        }
        else
        {
            logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = TimestampFormat;
                options.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
        return logging;
    }

    private static bool IsJson(string format) => string.Equals(format, "json", StringComparison.OrdinalIgnoreCase);
}
