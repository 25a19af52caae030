namespace AkkaCollector.Shutdown;

/// <summary>How many events are still in the spool, undelivered: the number the last shutdown log line reports.</summary>
public interface ISpoolBacklog
{
    /// <summary>Events journaled but not yet confirmed by Kafka.</summary>
    long EventsRemaining();
}
