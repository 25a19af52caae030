using AkkaCollector.Observability;
using AkkaCollector.Spooling;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCollector.Shutdown;

/// <summary>
/// Whether the collector wants traffic. The spool's start (until every spooler has recovered its journal), draining
/// (shutdown's first phase), a spooler restarting after its journal failed (until it has recovered) and a full spool
/// all turn readiness to 503 so the load balancer sends producers elsewhere; liveness is not affected.
/// </summary>
public sealed class ReadinessGate
{
    private readonly SpoolStatus _spool;
    private volatile bool _draining;

    /// <summary>Starts unready while the spool starts; follows the spool's start, its spoolers' restarts and its full flag from then on.</summary>
    public ReadinessGate(SpoolStatus spool)
    {
        _spool = spool;
        // All three are read from the spool's status when asked; the events only keep collector_ready current.
        spool.FullChanged += _ => Publish();
        spool.Started += Publish;
        spool.RestartingChanged += Publish;
        Publish();
    }

    /// <summary>True when /health/ready answers 200.</summary>
    public bool IsReady => State == Ready;

    /// <summary>True once shutdown has begun; never turns back.</summary>
    public bool IsDraining => _draining;

    /// <summary>Why readiness is what it is: ready, starting, draining, spooler_restarting or spool_full (the /health/ready body).</summary>
    public string State => _draining ? "draining"
        : _spool.IsStarting ? "starting"
        : _spool.IsSpoolerRestarting ? "spooler_restarting"
        : _spool.IsFull ? "spool_full"
        : Ready;

    private const string Ready = "ready";

    /// <summary>Shutdown has begun: stop attracting traffic for good.</summary>
    public void MarkDraining()
    {
        _draining = true;
        Publish();
    }

    private void Publish() => CollectorMetrics.Ready.Set(IsReady ? 1 : 0);
}
