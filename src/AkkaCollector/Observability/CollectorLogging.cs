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

    /// <summary>Why <c>Logging:Format</c> cannot be used, or null when it can: the start is refused rather than a format guessed.</summary>
    public static string? FormatProblem(IConfiguration configuration) =>
        configuration[FormatKey] is { } format && !IsJson(format) && !string.Equals(format, "simple", StringComparison.OrdinalIgnoreCase)
            ? $"{FormatKey} = '{format}': must be simple or json"
            : null;

    /// <summary>Selects the console formatter; <see cref="FormatProblem"/> has refused any other than simple and json.</summary>
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
