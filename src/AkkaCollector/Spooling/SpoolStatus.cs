using AkkaCollector.Observability;
using AkkaCollector.Shutdown;

namespace AkkaCollector.Spooling;

/// <summary>
/// The spool's backlog as the rest of the process sees it (readiness, the shutdown log line, metrics), written by
/// the spoolers and read without asking them: health checks must never wait on an actor, the journal or Kafka.
/// </summary>
public sealed class SpoolStatus(int partitions, long maxBytesPerPartition) : ISpoolBacklog
{
    private readonly long[] _events = new long[partitions];
    private readonly long[] _bytes = new long[partitions];
    private readonly int[] _full = new int[partitions];

    public long MaxBytesPerPartition { get; } = maxBytesPerPartition;

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

    private static long Sum(long[] values)
    {
        long total = 0;
        for (var i = 0; i < values.Length; i++)
            total += Volatile.Read(ref values[i]);
        return total;
    }
}
