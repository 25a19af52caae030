using AkkaCollector.Rig.Metrics;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>A collector's /metrics, read with the rig's parser.</summary>
internal static class ScrapedMetrics
{
    /// <summary>The sum of a metric's series: its value when it has no labels, 0 while it has no series.</summary>
    public static async Task<double> MetricAsync(this CollectorProcess collector, string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync($"{collector.BaseUrl}/metrics");
        return PrometheusText.Parse(text, name).Where(sample => sample.Name == name).Sum(sample => sample.Value);
    }
}
