using Microsoft.AspNetCore.Http.HttpResults;

namespace AkkaCollector.Shutdown;

/// <summary>
/// The two health routes, side by side. Liveness answers 200 while the process runs and its HTTP server turns requests
/// around; readiness says whether the collector wants traffic (<see cref="ReadinessGate"/>: 503 until the spool has
/// recovered its journal, while draining or while the spool is full). Neither touches Redis, Kafka, the journal or an
/// actor, so a slow dependency can never make a load balancer or process manager declare a working collector dead (the
/// story's load balancer took slow but healthy hosts out of rotation).
/// </summary>
public static class HealthApi
{
    /// <summary>The liveness route.</summary>
    public const string LivePath = "/health/live";

    /// <summary>The readiness route.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>Maps GET /health/live.</summary>
    public static IEndpointRouteBuilder MapLiveness(this IEndpointRouteBuilder app)
    {
        app.MapGet(LivePath, () => TypedResults.Text("live")).WithName("health:live");
        return app;
    }

    /// <summary>Maps GET /health/ready: 200 <c>ready</c>, or 503 <c>starting</c> / <c>draining</c> / <c>spooler_restarting</c> / <c>spool_full</c>.</summary>
    public static IEndpointRouteBuilder MapReadiness(this IEndpointRouteBuilder app)
    {
        app.MapGet(ReadyPath, ContentHttpResult (ReadinessGate gate) =>
                TypedResults.Text(gate.State, statusCode: gate.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable))
            .WithName("health:ready");
        return app;
    }
}
