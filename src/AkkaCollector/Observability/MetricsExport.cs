using Prometheus;

namespace AkkaCollector.Observability;

/// <summary>What /metrics exports besides <see cref="CollectorMetrics"/>, decided once before any metric exists.</summary>
public static class MetricsExport
{
    /// <summary>
    /// prometheus-net by default republishes every .NET Meter and EventCounter (Kestrel's and ASP.NET Core's per-request
    /// instruments included) and attaches a trace exemplar to every observation. Profiled under the benchmark
    /// (docs/benchmark.md) that was the largest cost of a request after Kestrel itself; the collector's own metrics
    /// and the process metrics stay, which is all the dashboards and alerts use.
    /// </summary>
    public static void CollectorMetricsOnly()
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressEventCounters = true });
        Metrics.DefaultFactory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
    }
}
