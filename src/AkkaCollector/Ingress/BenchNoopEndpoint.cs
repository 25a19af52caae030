using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Ingress;

/// <summary>
/// <c>POST /bench/noop</c>, mapped only with <c>Bench:NoopEndpoint=true</c>: the HTTP ceiling of the benchmark
/// (docs/benchmark.md). It reads the body exactly as the tracking API does (same reader, same limit) and answers what
/// a stored request is answered, but parses, validates, spools and counts nothing, so the figure it reaches in the
/// same process is what Kestrel and the body read alone allow, and the collector's routes are measured against it.
/// </summary>
public static class BenchNoopEndpoint
{
    public const string Setting = "Bench:NoopEndpoint";

    /// <summary>Maps the endpoint when <see cref="Setting"/> is true; otherwise does nothing.</summary>
    public static IEndpointRouteBuilder MapBenchNoop(this IEndpointRouteBuilder app, IConfiguration configuration)
    {
        if (!configuration.GetValue<bool>(Setting))
            return app;
        app.MapPost("/bench/noop", async Task<Results<Ok<IngressSuccess>, IngressError>> (HttpContext context, [FromServices] IOptions<IngressOptions> options) =>
        {
            var read = await RequestBodyReader.ReadAsync(context.Request, options.Value.MaxRequestBytes, context.RequestAborted);
            if (!read.TryGetValue(out var body, out var error))
                return error;
            body.Dispose();
            return TypedResults.Ok(IngressSuccess.Stored);
        }).WithName("bench:noop");
        return app;
    }
}
