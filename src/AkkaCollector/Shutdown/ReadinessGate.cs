using AkkaCollector.Observability;
using AkkaCollector.Spooling;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCollector.Shutdown;

/// <summary>
/// Whether the collector wants traffic. Draining (shutdown's first phase) and a full spool both turn readiness
/// to 503 so the load balancer sends producers elsewhere; liveness is not affected.
/// </summary>
public sealed class ReadinessGate
{
    private volatile bool _draining;
    private volatile bool _spoolFull;

    /// <summary>Starts ready; follows the spool's full flag from then on.</summary>
    public ReadinessGate(SpoolStatus spool)
    {
        spool.FullChanged += SetSpoolFull;
        Publish();
    }

    /// <summary>True when /health/ready answers 200.</summary>
    public bool IsReady => !_draining && !_spoolFull;

    /// <summary>True once shutdown has begun; never turns back.</summary>
    public bool IsDraining => _draining;

    /// <summary>Why readiness is what it is: ready, draining or spool_full (the /health/ready body).</summary>
    public string State => _draining ? "draining" : _spoolFull ? "spool_full" : "ready";

    /// <summary>Shutdown has begun: stop attracting traffic for good.</summary>
    public void MarkDraining()
    {
        _draining = true;
        Publish();
    }

    private void SetSpoolFull(bool full)
    {
        _spoolFull = full;
        Publish();
    }

    private void Publish() => CollectorMetrics.Ready.Set(IsReady ? 1 : 0);
}
