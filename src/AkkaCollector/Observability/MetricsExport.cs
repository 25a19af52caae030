using Prometheus;

namespace AkkaCollector.Observability;

/// <summary>What /metrics exports besides <see cref="CollectorMetrics"/>, decided once before any metric exists.</summary>
public static class MetricsExport
{
    /// <summary>
    /// prometheus-net by default republishes every .NET Meter and EventCounter (Kestrel's and ASP.NET Core's per-request
    /// instruments included) and attaches a trace exemplar to every observation. Profiled under the benchmark
    /// (docs/benchmark.md) that was the largest cost of a request after Kestrel itself. Its own process_* and
    /// dotnet_* families and its prometheus_net_* self-metrics go too: ProcessMetrics exports what the dashboards and
    /// alerts use under collector_* (CPU, memory, GC, threads, sockets), so /metrics holds one family per idea.
    /// </summary>
    public static void CollectorMetricsOnly()
    {
        Metrics.SuppressDefaultMetrics();
        Metrics.DefaultFactory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
    }
}
