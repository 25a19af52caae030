using AkkaCollector.Observability;

namespace AkkaCollector.Shutdown;

/// <summary>How many events are still in the spool, undelivered: the number the last shutdown log line reports.</summary>
public interface ISpoolBacklog
{
    /// <summary>Events journaled but not yet confirmed by Kafka.</summary>
    long EventsRemaining();
}

/// <summary>
/// Reads the backlog from <see cref="CollectorMetrics.SpoolBacklogEvents"/>, which every spooler keeps current,
/// so shutdown reports the same number the dashboards show without asking actors that may already be stopped.
/// </summary>
public sealed class GaugeSpoolBacklog : ISpoolBacklog
{
    /// <inheritdoc />
    public long EventsRemaining() =>
        (long)CollectorMetrics.SpoolBacklogEvents.GetAllLabelValues()
            .Sum(labels => CollectorMetrics.SpoolBacklogEvents.WithLabels(labels).Value);
}
