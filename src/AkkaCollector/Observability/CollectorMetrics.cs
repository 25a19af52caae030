using Prometheus;

namespace AkkaCollector.Observability;

/// <summary>
/// Every metric the collector exports, in one place. Names start with <c>collector_</c>; every failure kind is
/// its own label value so that an outage never hides inside one lumped counter (the story behind this product
/// could not debug its outage because different failures shared one metric).
/// </summary>
public static class CollectorMetrics
{
    /// <summary>HTTP requests by route, status code and cause (ok, bad_request, too_large, unsupported_encoding, rate_limited, unauthorized, forbidden, rejected, client_closed, spool_full, journal_failed, timeout; browsers: origin_not_allowed, method_not_allowed for a preflight asking a method not served, preflight for an answered one; discarded for analytics.js's /v1/m telemetry). The pixel routes always answer 200: their status label is 200 and the cause says what became of the event.</summary>
    public static readonly Counter HttpRequests = Metrics.CreateCounter(
        "collector_http_requests_total", "HTTP requests answered, by route, status and cause.",
        new CounterConfiguration { LabelNames = ["route", "status", "cause"] });

    /// <summary>Time from request start to answer, by route.</summary>
    public static readonly Histogram HttpRequestSeconds = Metrics.CreateHistogram(
        "collector_http_request_duration_seconds", "Request latency, by route.",
        new HistogramConfiguration { LabelNames = ["route"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });

    /// <summary>Events that passed validation and lookups and were handed to the spool.</summary>
    public static readonly Counter EventsAccepted = Metrics.CreateCounter(
        "collector_events_accepted_total", "Events accepted at ingress and handed to the spool.");

    /// <summary>Events whose journal write completed (acknowledged to producers).</summary>
    public static readonly Counter EventsPersisted = Metrics.CreateCounter(
        "collector_events_persisted_total", "Events written to the journal.");

    /// <summary>Events Kafka confirmed (acks=all).</summary>
    public static readonly Counter EventsDelivered = Metrics.CreateCounter(
        "collector_events_delivered_total", "Events delivered to Kafka.");

    /// <summary>Events not stored, by cause: duplicate_dropped for a copy of an event stored already (a retried request, answered 200).</summary>
    public static readonly Counter EventsDropped = Metrics.CreateCounter(
        "collector_events_dropped_total", "Events accepted but not stored, by cause (duplicate_dropped: a copy of a stored event).",
        new CounterConfiguration { LabelNames = ["cause"] });

    /// <summary>The causes of <see cref="EventsDropped"/>.</summary>
    public static class DropCause
    {
        /// <summary>A copy of an event the spool stored already (a retried request); its request is answered 200.</summary>
        public const string Duplicate = "duplicate_dropped";
    }

    /// <summary>messageIds a spooler remembers to drop retried copies (Ingress:DedupWindow bounds the stored ones).</summary>
    public static readonly Gauge DedupWindowIds = Metrics.CreateGauge(
        "collector_dedup_window_ids", "messageIds in a spooler's de-duplication window (stored and being written), per spooler.",
        new GaugeConfiguration { LabelNames = ["spooler"] });

    /// <summary>Undelivered events per spooler partition.</summary>
    public static readonly Gauge SpoolBacklogEvents = Metrics.CreateGauge(
        "collector_spool_backlog_events", "Events in the spool not yet delivered to Kafka, per spooler.",
        new GaugeConfiguration { LabelNames = ["spooler"] });

    /// <summary>Undelivered bytes per spooler partition (what the spool bound counts).</summary>
    public static readonly Gauge SpoolBacklogBytes = Metrics.CreateGauge(
        "collector_spool_backlog_bytes", "Bytes in the spool not yet delivered to Kafka, per spooler.",
        new GaugeConfiguration { LabelNames = ["spooler"] });

    /// <summary>Spools this collector holds the claim of: its own partitions, plus those it took over and is draining.</summary>
    public static readonly Gauge SpoolsOwned = Metrics.CreateGauge(
        "collector_spools_owned", "Spools this collector owns (its own partitions and those taken over, while it drains them).");

    /// <summary>Spools of a collector that was gone which this one took over (a shared PostgreSQL spool; on SQLite, older spools in its own file).</summary>
    public static readonly Counter SpoolsTakenOver = Metrics.CreateCounter(
        "collector_spools_taken_over_total", "Spools taken over from a collector that was gone, to deliver what they held.");

    /// <summary>Spools taken over, drained and let go (handed back to their collector if it returns).</summary>
    public static readonly Counter SpoolsHandedBack = Metrics.CreateCounter(
        "collector_spools_handed_back_total", "Spools taken over that were delivered, truncated and let go.");

    /// <summary>Events Kafka confirmed from spools taken over.</summary>
    public static readonly Counter TakenOverEventsDelivered = Metrics.CreateCounter(
        "collector_taken_over_events_delivered_total", "Events delivered to Kafka from spools taken over from a collector that was gone.");

    /// <summary>The spool's bound on undelivered bytes, across spoolers (Spool:MaxBytes), so dashboards show how full it is.</summary>
    public static readonly Gauge SpoolMaxBytes = Metrics.CreateGauge(
        "collector_spool_max_bytes", "Bound on undelivered bytes across spoolers; past it producers get 503 spool_full.");

    /// <summary>Journal write (group commit) latency.</summary>
    public static readonly Histogram JournalWriteSeconds = Metrics.CreateHistogram(
        "collector_journal_write_duration_seconds", "Latency of one journal write (one group commit).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0002, 2, 16) });

    /// <summary>Events per journal write: how well group commit is batching.</summary>
    public static readonly Histogram JournalBatchEvents = Metrics.CreateHistogram(
        "collector_journal_batch_events", "Events in one journal write.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 14) });

    /// <summary>Journal write failures.</summary>
    public static readonly Counter JournalWriteFailures = Metrics.CreateCounter(
        "collector_journal_write_failures_total", "Journal writes that failed (their events were answered 503).");

    /// <summary>Time from handing an event to the Kafka producer to its delivery report.</summary>
    public static readonly Histogram KafkaDeliverySeconds = Metrics.CreateHistogram(
        "collector_kafka_delivery_duration_seconds", "Kafka delivery latency (produce to delivery report).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 18) });

    /// <summary>Events a spooler found in Kafka already when it recovered or retried a batch, and so did not send again.</summary>
    public static readonly Counter RecoveryDuplicatesAvoided = Metrics.CreateCounter(
        "collector_recovery_duplicates_avoided_total", "Events found in Kafka already after a restart or a failed delivery (or, at a takeover, stored by this collector's own spoolers), and not sent again.");

    /// <summary>Records read back from Kafka to find what a spool had delivered.</summary>
    public static readonly Counter KafkaReadBackRecords = Metrics.CreateCounter(
        "collector_kafka_read_back_records_total", "Records read back from Kafka to find which events a spool had already delivered.");

    /// <summary>Kafka delivery errors by librdkafka error code.</summary>
    public static readonly Counter KafkaDeliveryErrors = Metrics.CreateCounter(
        "collector_kafka_delivery_errors_total", "Kafka delivery reports with an error, by error code.",
        new CounterConfiguration { LabelNames = ["code"] });

    /// <summary>Lookup calls by lookup (rate_limit, app_registry, geo) and outcome (ok, failed, timed_out, short_circuited).</summary>
    public static readonly Counter LookupCalls = Metrics.CreateCounter(
        "collector_lookup_calls_total", "Lookup calls by lookup and outcome.",
        new CounterConfiguration { LabelNames = ["lookup", "outcome"] });

    /// <summary>Lookup call latency by lookup.</summary>
    public static readonly Histogram LookupSeconds = Metrics.CreateHistogram(
        "collector_lookup_duration_seconds", "Lookup latency by lookup.",
        new HistogramConfiguration { LabelNames = ["lookup"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });

    /// <summary>Breaker state per lookup: 0 closed, 1 half-open, 2 open.</summary>
    public static readonly Gauge BreakerState = Metrics.CreateGauge(
        "collector_breaker_state", "Circuit breaker state per lookup: 0 closed, 1 half-open, 2 open.",
        new GaugeConfiguration { LabelNames = ["lookup"] });

    /// <summary>Breaker transitions per lookup and target state.</summary>
    public static readonly Counter BreakerTransitions = Metrics.CreateCounter(
        "collector_breaker_transitions_total", "Circuit breaker transitions by lookup and new state.",
        new CounterConfiguration { LabelNames = ["lookup", "state"] });

    /// <summary>Requests whose lookup default was used: rate limit skipped, app unverified, geo skipped.</summary>
    public static readonly Counter LookupDefaultsUsed = Metrics.CreateCounter(
        "collector_lookup_defaults_used_total", "Times a lookup's declared default was used instead of its answer.",
        new CounterConfiguration { LabelNames = ["lookup", "default"] });

    /// <summary>1 when the collector wants traffic, 0 while the spool starts, while draining or when the spool is full.</summary>
    public static readonly Gauge Ready = Metrics.CreateGauge(
        "collector_ready", "1 when /health/ready answers 200, else 0.");

    /// <summary>
    /// TCP sockets by state, of this process (scope="process", matched through /proc/self/fd) and of its network
    /// namespace (scope="namespace": every socket on the host or pod, TIME_WAIT included, which no process owns).
    /// Counted at most every 5 s (<see cref="ProcessMetrics.SocketCensusEvery"/>), as are the two port gauges below.
    /// </summary>
    public static readonly Gauge TcpSockets = Metrics.CreateGauge(
        "collector_tcp_sockets", "TCP sockets by scope (process, namespace) and state, read from /proc/net/tcp and tcp6 at most every 5 s.",
        new GaugeConfiguration { LabelNames = ["scope", "state"] });

    /// <summary>Distinct local ports inside the ephemeral range held by sockets, per scope: the port use the story had to measure.</summary>
    public static readonly Gauge EphemeralPortsInUse = Metrics.CreateGauge(
        "collector_ephemeral_ports_in_use", "Distinct local ports inside the ephemeral port range held by TCP sockets, by scope (process, namespace).",
        new GaugeConfiguration { LabelNames = ["scope"] });

    /// <summary>The kernel's ephemeral port range (net.ipv4.ip_local_port_range), bound="first" and bound="last".</summary>
    public static readonly Gauge EphemeralPortRange = Metrics.CreateGauge(
        "collector_ephemeral_port_range", "The kernel's ephemeral port range (net.ipv4.ip_local_port_range), first and last port.",
        new GaugeConfiguration { LabelNames = ["bound"] });

    /// <summary>Thread pool threads right now.</summary>
    public static readonly Gauge ThreadPoolThreads = Metrics.CreateGauge(
        "collector_threadpool_threads", "Thread pool threads.");

    /// <summary>Work items queued to the thread pool and not yet started: a growing queue means starved threads.</summary>
    public static readonly Gauge ThreadPoolQueueLength = Metrics.CreateGauge(
        "collector_threadpool_queue_length", "Thread pool work items waiting to start.");

    /// <summary>Work items the thread pool has completed since start.</summary>
    public static readonly Counter ThreadPoolCompletedItems = Metrics.CreateCounter(
        "collector_threadpool_completed_items_total", "Thread pool work items completed.");

    /// <summary>Time the process spent paused in garbage collection since start (the story's GC pressure showed here).</summary>
    public static readonly Counter GcPauseSeconds = Metrics.CreateCounter(
        "collector_gc_pause_seconds_total", "Time paused in garbage collection.");

    /// <summary>
    /// Bytes allocated on the managed heap since start: its rate is the allocation pressure. While server GC runs one
    /// heap fewer (DATAS), the runtime's count can stand still for a while and then catch up (ProcessMetrics).
    /// </summary>
    public static readonly Counter GcAllocatedBytes = Metrics.CreateCounter(
        "collector_gc_allocated_bytes_total", "Bytes allocated on the managed heap.");

    /// <summary>Managed heap after the last collection, and the memory the GC holds committed for it: with the process RSS they
    /// tell the heap's share from native memory (SQLite's page cache, librdkafka's queue).</summary>
    public static readonly Gauge GcHeapBytes = Metrics.CreateGauge(
        "collector_gc_heap_bytes", "Managed heap after the last GC (size) and memory committed by the GC (committed).",
        new GaugeConfiguration { LabelNames = ["kind"] });

    /// <summary>
    /// Time the JIT has spent compiling since start. Tiered compilation recompiles hot code for minutes after a start
    /// under load (it took a sixth of the CPU 15 s in, docs/benchmark.md): a rising rate explains CPU a fresh process
    /// spends that a warm one does not.
    /// </summary>
    public static readonly Counter JitCompilationSeconds = Metrics.CreateCounter(
        "collector_jit_compilation_seconds_total", "Time spent compiling methods (JIT, all tiers).");

    /// <summary>CPU time (user + system) the process has used since start: its rate is the cores it keeps busy.</summary>
    public static readonly Counter ProcessCpuSeconds = Metrics.CreateCounter(
        "collector_process_cpu_seconds_total", "CPU time used by the process (user and system).");

    /// <summary>The process's resident memory (heap, native memory and code): what the kernel's OOM killer weighs.</summary>
    public static readonly Gauge ProcessResidentBytes = Metrics.CreateGauge(
        "collector_process_resident_bytes", "Resident memory of the process.");

    /// <summary>Methods compiled by the JIT since start (all tiers, recompilations included).</summary>
    public static readonly Counter JitCompiledMethods = Metrics.CreateCounter(
        "collector_jit_compiled_methods_total", "Methods compiled by the JIT (all tiers).");
}
