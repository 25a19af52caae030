namespace AkkaCollector.Observability;

/// <summary>
/// Liveness: answers 200 while the process runs and its HTTP server turns requests around. It never touches Redis,
/// Kafka, the journal or an actor, so a slow dependency can never make a load balancer or process manager declare
/// a working collector dead (the story's load balancer took slow but healthy hosts out of rotation).
/// </summary>
public static class HealthApi
{
    /// <summary>The liveness route.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Maps GET /health/live.</summary>
    public static IEndpointRouteBuilder MapLiveness(this IEndpointRouteBuilder app)
    {
        app.MapGet(LivePath, () => TypedResults.Text("live")).WithName("health:live");
        return app;
    }
}
