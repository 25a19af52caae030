namespace AkkaCollector.Rig.Metrics;

/// <summary>The collector's event counters from one scrape of /metrics (the rig's report and the benchmark read them).</summary>
/// <param name="JournalWrites">Group commits so far (count of collector_journal_batch_events).</param>
/// <param name="JitSeconds">Time the collector's JIT has spent compiling since its start.</param>
/// <param name="AllocatedBytes">Bytes the collector has allocated on the managed heap since its start.</param>
public sealed record CollectorCounters(double Accepted, double Persisted, double Delivered, double Backlog, double JournalWrites, double JournalWriteSeconds,
    double JitSeconds = 0, double AllocatedBytes = 0)
{
    public static CollectorCounters Parse(string text)
    {
        double accepted = 0, persisted = 0, delivered = 0, backlog = 0, writes = 0, writeSeconds = 0, jitSeconds = 0, allocated = 0;
        foreach (var sample in PrometheusText.Parse(text, "collector_"))
        {
            switch (sample.Name)
            {
                case "collector_events_accepted_total":
                    accepted = sample.Value;
                    break;
                case "collector_events_persisted_total":
                    persisted = sample.Value;
                    break;
                case "collector_events_delivered_total":
                    delivered = sample.Value;
                    break;
                case "collector_spool_backlog_events":
                    backlog += sample.Value;
                    break;
                case "collector_journal_batch_events_count":
                    writes = sample.Value;
                    break;
                case "collector_journal_write_duration_seconds_sum":
                    writeSeconds = sample.Value;
                    break;
                case "collector_jit_compilation_seconds_total":
                    jitSeconds = sample.Value;
                    break;
                case "collector_gc_allocated_bytes_total":
                    allocated = sample.Value;
                    break;
            }
        }
        return new CollectorCounters(accepted, persisted, delivered, backlog, writes, writeSeconds, jitSeconds, allocated);
    }
}
