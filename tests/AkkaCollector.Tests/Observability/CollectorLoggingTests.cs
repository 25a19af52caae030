using AkkaCollector.Observability;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Tests.Observability;

public sealed class CollectorLoggingTests
{
    [Theory]
    [InlineData(null, ConsoleFormatterNames.Simple)]
    [InlineData("simple", ConsoleFormatterNames.Simple)]
    [InlineData("json", ConsoleFormatterNames.Json)]
    [InlineData("JSON", ConsoleFormatterNames.Json)]
    public void Should_select_the_console_formatter_named_by_Logging_Format_and_never_drop_entries(string? format, string formatter)
    {
        using var services = Services(format);

        var console = services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;

        Assert.Equal(formatter, console.FormatterName);
        Assert.Equal(ConsoleLoggerQueueFullMode.Wait, console.QueueFullMode);
    }

    [Fact]
    public void Should_write_simple_entries_on_one_line_with_utc_timestamps()
    {
        using var services = Services("simple");

        var simple = services.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue;

        Assert.True(simple.SingleLine);
        Assert.True(simple.UseUtcTimestamp);
    }

    [Fact]
    public void Should_refuse_an_unknown_format_instead_of_guessing()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>(CollectorLogging.FormatKey, "xml")])
            .Build();

        Assert.Equal("Logging:Format = 'xml': must be simple or json", Assert.Single(CollectorLogging.Problems(configuration)));
    }

    [Fact]
    public void Should_accept_every_log_level_in_any_case_and_an_empty_one()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "information",
                ["Logging:LogLevel:Akka"] = "None",
                ["Logging:Console:LogLevel:Microsoft"] = "WARNING",
                ["Logging:LogLevel:Quiet"] = "",
            })
            .Build();

        Assert.Empty(CollectorLogging.Problems(configuration));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("Information", true)]
    public void Should_keep_the_per_request_hosting_diagnostics_off_unless_configured(string? level, bool enabled)
    {
        // Enabled even for Critical only, ASP.NET Core starts an Activity and a logging scope for every request.
        using var services = Services(null, level is null ? [] : [new("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", level)]);

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics");

        Assert.Equal(enabled, logger.IsEnabled(LogLevel.Critical));
    }

    private static ServiceProvider Services(string? format, KeyValuePair<string, string?>[]? settings = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(format is null ? [] : [new KeyValuePair<string, string?>(CollectorLogging.FormatKey, format)])
            .AddInMemoryCollection(settings ?? [])
            .Build();
        return new ServiceCollection().AddLogging(logging =>
        {
            logging.AddConfiguration(configuration.GetSection("Logging"));
            logging.AddCollectorConsole(configuration);
        }).BuildServiceProvider();
    }
}
