using AkkaCollector.Spooling;
using Microsoft.Extensions.Logging;

namespace AkkaCollector.Tests.Observability;

public sealed class SpoolStatusLogTests
{
    private const long Bound = 1000;
    private readonly RecordingLogger _log = new();
    private readonly SpoolStatus _status;

    public SpoolStatusLogTests() => _status = new SpoolStatus(partitions: 2, maxBytesPerPartition: Bound, _log);

    [Fact]
    public void Should_log_one_warning_when_a_spooler_reaches_80_percent_of_its_bound()
    {
        _status.Report(0, events: 10, bytes: 790);
        _status.Report(1, events: 10, bytes: 800);
        _status.Report(1, events: 12, bytes: 950);
        _status.Report(0, events: 12, bytes: 900);

        var warning = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.StartsWith("Spool at 80 % of its bound: spooler 1 holds 800 of its 1000 bytes undelivered (20 events, 1590 bytes across spoolers)", warning.Message);
    }

    [Fact]
    public void Should_log_back_to_normal_once_every_spooler_is_under_70_percent_and_not_while_it_hovers_in_between()
    {
        _status.Report(0, events: 10, bytes: 850);
        _status.Report(0, events: 9, bytes: 750);
        _status.Report(0, events: 10, bytes: 820);
        _status.Report(1, events: 8, bytes: 720);
        _status.Report(0, events: 1, bytes: 100);
        _status.Report(1, events: 1, bytes: 100);
        _status.Report(1, events: 0, bytes: 0);

        Assert.Equal([LogLevel.Warning, LogLevel.Information], _log.Entries.Select(entry => entry.Level));
        Assert.Equal("Spool back under 70 % of its bound: fullest spooler at 10 % (2 events, 200 bytes undelivered across spoolers).", _log.Entries[1].Message);
    }

    [Fact]
    public void Should_warn_again_when_the_spool_fills_a_second_time()
    {
        _status.Report(0, events: 10, bytes: 900);
        _status.Report(0, events: 0, bytes: 0);
        _status.Report(1, events: 10, bytes: 1000);

        Assert.Equal([LogLevel.Warning, LogLevel.Information, LogLevel.Warning], _log.Entries.Select(entry => entry.Level));
    }

    /// <summary>Keeps every entry, formatted, in order.</summary>
    private sealed class RecordingLogger : ILogger<SpoolStatus>
    {
        private readonly List<(LogLevel Level, string Message)> _entries = [];

        public IReadOnlyList<(LogLevel Level, string Message)> Entries
        {
            get
            {
                lock (_entries)
                    return [.. _entries];
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries)
                _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
