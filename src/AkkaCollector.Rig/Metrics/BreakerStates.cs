using AkkaCollector.Observability;

namespace AkkaCollector.Rig.Metrics;

/// <summary>The one reading of <c>collector_breaker_state</c> that the rig, the bench and the tests share.</summary>
public static class BreakerStates
{
    /// <summary>Each lookup's breaker from one scrape: 0 closed, 1 half-open, 2 open.</summary>
    public static SortedDictionary<string, double> From(IEnumerable<PrometheusSample> samples) =>
        new(samples.Where(s => s.Name == CollectorMetrics.BreakerState.Name).ToDictionary(s => s.Label("lookup"), s => s.Value), StringComparer.Ordinal);
}
