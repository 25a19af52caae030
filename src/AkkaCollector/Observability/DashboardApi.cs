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

    private const string ResourceName = "dashboard/dashboard.html";

    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var resource = typeof(DashboardApi).Assembly.GetManifestResourceStream(ResourceName)
                             ?? throw new InvalidOperationException($"The assembly lacks its embedded resource {ResourceName}.");
        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>Maps GET /dashboard; the page also needs <c>MapMetrics()</c> at /metrics.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Bytes(Page.Value, "text/html; charset=utf-8");
        }).WithName("dashboard");
        return app;
    }
}
