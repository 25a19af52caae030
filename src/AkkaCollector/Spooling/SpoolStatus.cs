using AkkaCollector.Observability;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaCollector.Spooling;

/// <summary>
/// The spool's backlog as the rest of the process sees it (readiness, the shutdown log line, metrics), written by
/// the spoolers and read without asking them: health checks must never wait on an actor, the journal or Kafka.
/// It also logs one line when the spool climbs to <see cref="HighPercent"/> % of its bound and one when it is back
/// under <see cref="NormalPercent"/> %: the warning comes before the first 503, and the gap between the two marks
/// keeps a spool hovering at the mark from writing a line per batch.
/// </summary>
public sealed partial class SpoolStatus
{
    /// <summary>Fill, in percent of a spooler's bound, at which the spool is reported nearly full.</summary>
    public const int HighPercent = 80;

    /// <summary>Fill below which every spooler must be before the spool is reported back to normal.</summary>
    public const int NormalPercent = 70;

    private readonly long[] _events;
    private readonly long[] _bytes;
    private readonly int[] _full;
    private readonly int[] _recovered;
    private readonly int[] _restarting;
    private readonly Prometheus.Gauge.Child?[] _eventGauges;
    private readonly Prometheus.Gauge.Child?[] _byteGauges;
    private readonly ILogger _logger;
    private int _fullCount;
    private int _starting;
    private int _restartingCount;
    private int _high;

    /// <param name="partitions">How many spoolers may report: every partition number a journal can hold.</param>
    /// <param name="maxBytesPerPartition">The byte bound of one spooler.</param>
    /// <param name="logger">Where the 80 % / back-to-normal lines go.</param>
    /// <param name="ownSpoolers">
    /// The spoolers of this collector's own spools (partitions 0 to <paramref name="ownSpoolers"/> - 1): the spool is
    /// starting until each has recovered its journal once. 0 where no spooler runs (a host without a spool).
    /// </param>
    public SpoolStatus(int partitions, long maxBytesPerPartition, ILogger<SpoolStatus>? logger = null, int ownSpoolers = 0)
    {
        _events = new long[partitions];
        _bytes = new long[partitions];
        _full = new int[partitions];
        _recovered = new int[ownSpoolers];
        _restarting = new int[ownSpoolers];
        _starting = ownSpoolers;
        _eventGauges = new Prometheus.Gauge.Child?[partitions];
        _byteGauges = new Prometheus.Gauge.Child?[partitions];
        MaxBytesPerPartition = maxBytesPerPartition;
        _logger = logger ?? NullLogger<SpoolStatus>.Instance;
    }

    public long MaxBytesPerPartition { get; }

    /// <summary>Events accepted and not yet delivered, across spoolers.</summary>
    public long BacklogEvents => Sum(_events);

    /// <summary>Payload bytes accepted and not yet delivered, across spoolers.</summary>
    public long BacklogBytes => Sum(_bytes);

    /// <summary>True while any spooler turns requests away for lack of room.</summary>
    public bool IsFull => Volatile.Read(ref _fullCount) > 0;

    // Spoolers report on every request and every write: each report costs two stores, two gauge sets and, only while
    // the spool is high, a scan of the spoolers (the gauges' children are looked up once, not per report).
    internal void Report(int partition, long events, long bytes)
    {
        Volatile.Write(ref _events[partition], events);
        Volatile.Write(ref _bytes[partition], bytes);
        (_eventGauges[partition] ??= CollectorMetrics.SpoolBacklogEvents.WithLabels(Label(partition))).Set(events);
        (_byteGauges[partition] ??= CollectorMetrics.SpoolBacklogBytes.WithLabels(Label(partition))).Set(bytes);
        LogFillChange(partition, bytes);
    }

    /// <summary>Raised when the spool as a whole becomes full (true) or takes events again (false): readiness follows it.</summary>
    public event Action<bool>? FullChanged;

    internal void ReportFull(int partition, bool full)
    {
        var now = full ? 1 : 0;
        if (Interlocked.Exchange(ref _full[partition], now) == now)
            return;
        // The spool as a whole changes only when the first spooler fills up or the last one has room again.
        var fullSpoolers = Interlocked.Add(ref _fullCount, full ? 1 : -1);
        if (fullSpoolers == (full ? 1 : 0))
            FullChanged?.Invoke(full);
    }

    /// <summary>
    /// True until every own spooler has recovered its journal for the first time. Until then nothing can be stored: a
    /// request waits for the recovery and, on a slow journal (a PostgreSQL that is still starting), is answered 503
    /// after Spool:WriteTimeout, so readiness keeps the load balancer from sending traffic here before that.
    /// </summary>
    public bool IsStarting => Volatile.Read(ref _starting) > 0;

    /// <summary>Raised once, when the last own spooler has recovered: readiness follows it.</summary>
    public event Action? Started;

    /// <summary>
    /// True while an own spooler that stopped (its journal failed: a write, or the recovery of the spooler started
    /// after it) has not recovered again. Meanwhile its partition stores nothing: requests are answered 503 at once
    /// while no spooler runs, and wait for the recovery (503 after Spool:WriteTimeout) while one recovers; readiness
    /// sends producers to another collector. A journal that keeps failing keeps it true, and the collector out of
    /// rotation, until the journal is back.
    /// </summary>
    public bool IsSpoolerRestarting => Volatile.Read(ref _restartingCount) > 0;

    /// <summary>Raised when the first own spooler stops or the last one stopped has recovered: readiness follows it.</summary>
    public event Action? RestartingChanged;

    internal void ReportRecovered(int partition)
    {
        if (partition >= _recovered.Length)
            return;
        if (Interlocked.Exchange(ref _restarting[partition], 0) == 1 && Interlocked.Decrement(ref _restartingCount) == 0)
            RestartingChanged?.Invoke();
        // A spooler restarted after a journal failure recovers again; only the first recovery of each is the start.
        if (Interlocked.Exchange(ref _recovered[partition], 1) == 0 && Interlocked.Decrement(ref _starting) == 0)
            Started?.Invoke();
    }

    /// <summary>An own spooler stopped and is to be started again: its partition stores nothing until it has recovered.</summary>
    internal void ReportStopped(int partition)
    {
        if (partition >= _restarting.Length || Interlocked.Exchange(ref _restarting[partition], 1) == 1)
            return;
        if (Interlocked.Increment(ref _restartingCount) == 1)
            RestartingChanged?.Invoke();
    }

    private void LogFillChange(int partition, long bytes)
    {
        // Nothing to log unless this spooler crossed the high mark or the spool is high and may be back to normal.
        if (bytes * 100.0 / MaxBytesPerPartition < HighPercent && Volatile.Read(ref _high) == 0)
            return;
        var (fullest, fullestBytes) = (partition, bytes);
        for (var i = 0; i < _bytes.Length; i++)
        {
            var spoolerBytes = Volatile.Read(ref _bytes[i]);
            if (spoolerBytes > fullestBytes)
                (fullest, fullestBytes) = (i, spoolerBytes);
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

    private static string Label(int partition) => partition.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static long Sum(long[] values)
    {
        long total = 0;
        for (var i = 0; i < values.Length; i++)
            total += Volatile.Read(ref values[i]);
        return total;
    }
}
