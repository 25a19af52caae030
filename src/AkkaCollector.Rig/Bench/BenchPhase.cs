namespace AkkaCollector.Rig.Bench;

/// <summary>One measured phase of the benchmark, as its row in the table.</summary>
/// <param name="Name">Short name (http-ceiling, track-64, ...).</param>
/// <param name="Load">What was sent: path, connections, events per request, rate.</param>
/// <param name="Acked">Events (requests for the HTTP ceiling) answered 200 per second of load.</param>
/// <param name="EndToEnd">Acknowledged events per second of load plus drain, when the spool was empty again and Kafka held them all; null when not (a growing backlog is not throughput).</param>
/// <param name="CollectorCpu">CPU time of the collector process over the phase, in % of one core.</param>
/// <param name="CpuPerEvent">The collector's CPU time per acknowledged event (per request for the HTTP ceiling), µs: what a loaded machine changes least.</param>
/// <param name="OtherCpu">CPU of the load tool (wrk, or the raw producer) and of the Kafka mock, in % of one core.</param>
/// <param name="PeakRss">The collector's VmHWM over the phase (reset at its start), bytes.</param>
/// <param name="LoadAverage">The machine's 1-minute load average at the phase's end (2 cores).</param>
/// <param name="Failed">Requests answered non-2xx or lost to socket errors.</param>
/// <param name="Lookups">What the lookups did, in the lookups phases; null elsewhere.</param>
public sealed record BenchPhase(
    string Name, string Load, double Acked, double? EndToEnd, double P50Ms, double P99Ms,
    double CollectorCpu, double CpuPerEvent, string OtherCpu, long PeakRss, double LoadAverage, string Notes,
    long Failed = 0, LookupFigures? Lookups = null);

/// <summary>One phase over another of the same run: events/s, p99 and CPU per event.</summary>
public sealed record BenchRatio(string Name, string Measured, string Rate, string P99, string CpuPerEvent);

/// <summary>One target of issue 8, the figures it compares and whether it is met.</summary>
public sealed record BenchTarget(string Target, string Measured, string Ratio, bool Met);
