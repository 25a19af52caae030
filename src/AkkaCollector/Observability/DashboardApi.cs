namespace AkkaCollector.Observability;

/// <summary>
/// GET /dashboard: the outage dashboard, one self-contained HTML page embedded in this assembly (no files to deploy,
/// nothing fetched from the internet). The page reads the collector's own /metrics every second and computes rates
/// itself rather than asking a JSON endpoint: it then shows exactly what Prometheus and Grafana see, needs no second
/// read path over the metrics that could drift from them, and picks up new label values (a new lookup, a new cause)
/// without a change here.
/// </summary>
public static class DashboardApi
{
    /// <summary>The dashboard's route.</summary>
    public const string Path = "/dashboard";

    private static readonly EmbeddedPage Page = new("dashboard/dashboard.html");

    /// <summary>Maps GET /dashboard; the page also needs <c>MapMetrics()</c> at /metrics.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, Page.Serve).WithName("dashboard");
        return app;
    }
}
