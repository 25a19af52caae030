using AkkaCollector.Observability;
using AkkaCollector.Shutdown;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaCollector.Spooling;

/// <summary>
/// The spool's backlog as the rest of the process sees it (readiness, the shutdown log line, metrics), written by
/// the spoolers and read without asking them: health checks must never wait on an actor, the journal or Kafka.
/// It also logs one line when the spool climbs to <see cref="HighPercent"/> % of its bound and one when it is back
/// under <see cref="NormalPercent"/> %: the warning comes before the first 503, and the gap between the two marks
/// keeps a spool hovering at the mark from writing a line per batch.
/// </summary>
public sealed partial class SpoolStatus : ISpoolBacklog
{
    /// <summary>Fill, in percent of a spooler's bound, at which the spool is reported nearly full.</summary>
    public const int HighPercent = 80;

    /// <summary>Fill below which every spooler must be before the spool is reported back to normal.</summary>
    public const int NormalPercent = 70;

    private readonly long[] _events;
    private readonly long[] _bytes;
    private readonly int[] _full;
    private readonly ILogger _logger;
    private int _high;

    /// <param name="partitions">How many spoolers may report: every partition number a journal can hold.</param>
    /// <param name="maxBytesPerPartition">The byte bound of one spooler.</param>
    /// <param name="logger">Where the 80 % / back-to-normal lines go.</param>
    public SpoolStatus(int partitions, long maxBytesPerPartition, ILogger<SpoolStatus>? logger = null)
    {
        _events = new long[partitions];
        _bytes = new long[partitions];
        _full = new int[partitions];
        MaxBytesPerPartition = maxBytesPerPartition;
        _logger = logger ?? NullLogger<SpoolStatus>.Instance;
    }

    public long MaxBytesPerPartition { get; }

    /// <summary>Events accepted and not yet delivered, across spoolers.</summary>
    public long BacklogEvents => Sum(_events);

    /// <summary>Payload bytes accepted and not yet delivered, across spoolers.</summary>
    public long BacklogBytes => Sum(_bytes);

    /// <summary>True while any spooler turns requests away for lack of room.</summary>
    public bool IsFull
    {
        get
        {
            for (var i = 0; i < _full.Length; i++)
                if (Volatile.Read(ref _full[i]) != 0)
                    return true;
            return false;
        }
    }

    internal void Report(int partition, long events, long bytes)
    {
        Volatile.Write(ref _events[partition], events);
        Volatile.Write(ref _bytes[partition], bytes);
        var label = partition.ToString(System.Globalization.CultureInfo.InvariantCulture);
        CollectorMetrics.SpoolBacklogEvents.WithLabels(label).Set(events);
        CollectorMetrics.SpoolBacklogBytes.WithLabels(label).Set(bytes);
        LogFillChange();
    }

    /// <summary>Raised when the spool as a whole becomes full (true) or takes events again (false): readiness follows it.</summary>
    public event Action<bool>? FullChanged;

    /// <inheritdoc />
    public long EventsRemaining() => BacklogEvents;

    internal void ReportFull(int partition, bool full)
    {
        var wasFull = IsFull;
        Volatile.Write(ref _full[partition], full ? 1 : 0);
        if (IsFull != wasFull)
            FullChanged?.Invoke(!wasFull);
    }

    private void LogFillChange()
    {
        var (fullest, fullestBytes) = (0, Volatile.Read(ref _bytes[0]));
        for (var i = 1; i < _bytes.Length; i++)
        {
            var bytes = Volatile.Read(ref _bytes[i]);
            if (bytes > fullestBytes)
                (fullest, fullestBytes) = (i, bytes);
        }

        var percent = fullestBytes * 100.0 / MaxBytesPerPartition;
        // Spoolers report concurrently; the exchange lets exactly one of them log each change.
        if (percent >= HighPercent && Interlocked.CompareExchange(ref _high, 1, 0) == 0)
            LogSpoolHigh(_logger, percent, fullest, fullestBytes, MaxBytesPerPartition, BacklogEvents, BacklogBytes);
        else if (percent < NormalPercent && Interlocked.CompareExchange(ref _high, 0, 1) == 1)
            LogSpoolNormal(_logger, NormalPercent, percent, BacklogEvents, BacklogBytes);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message =
        "Spool at {Percent:F0} % of its bound: spooler {Spooler} holds {SpoolerBytes} of its {SpoolerMaxBytes} bytes undelivered " +
        "({BacklogEvents} events, {BacklogBytes} bytes across spoolers). A full spooler answers 503 spool_full.")]
    private static partial void LogSpoolHigh(ILogger logger, double percent, int spooler, long spoolerBytes, long spoolerMaxBytes, long backlogEvents, long backlogBytes);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message =
        "Spool back under {NormalPercent} % of its bound: fullest spooler at {Percent:F0} % ({BacklogEvents} events, {BacklogBytes} bytes undelivered across spoolers).")]
    private static partial void LogSpoolNormal(ILogger logger, int normalPercent, double percent, long backlogEvents, long backlogBytes);

    private static long Sum(long[] values)
    {
        long total = 0;
        for (var i = 0; i < values.Length; i++)
            total += Volatile.Read(ref values[i]);
        return total;
    }
}
