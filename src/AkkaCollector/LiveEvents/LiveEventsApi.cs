using AkkaCollector.Observability;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AkkaCollector.LiveEvents;

/// <summary>
/// <c>GET /live-events</c>: a self-contained page (like the dashboard: no external assets) that polls
/// <c>GET /live-events/json</c> every second. The page holds no data and is served to anyone; the JSON, which carries
/// user data, needs <c>Authorization: Bearer TOKEN</c> when <c>Shutdown:AdminToken</c> is set (the page sends the
/// token given after <c>#token=</c> in its address: a fragment never reaches a server or its logs).
/// </summary>
public static class LiveEventsApi
{
    /// <summary>The page's route.</summary>
    public const string Path = "/live-events";

    /// <summary>The JSON endpoint the page reads.</summary>
    public const string JsonPath = "/live-events/json";

    private static readonly EmbeddedPage Page = new("live-events/live-events.html");

    /// <summary>Binds <c>LiveEvents:*</c> (validated at start) and registers the recorder Ingress and Publishing write into.</summary>
    public static IServiceCollection AddLiveEvents(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<LiveEventsOptions>(configuration, LiveEventsOptions.Section);
        services.AddSingleton(sp => new LiveEventsRecorder(
            sp.GetRequiredService<IOptions<LiveEventsOptions>>().Value, sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return services;
    }

    /// <summary>Maps the page and its JSON; both answer 404 with how to turn the view on when it is off.</summary>
    public static IEndpointRouteBuilder MapLiveEvents(this IEndpointRouteBuilder app, string? adminToken)
    {
        var admin = string.IsNullOrEmpty(adminToken) ? null : new AdminToken(adminToken);
        app.MapGet(Path, Results<FileContentHttpResult, JsonHttpResult<ErrorAnswer>> (HttpContext context, IOptions<LiveEventsOptions> options) =>
                options.Value.Enabled ? Page.Serve(context) : Off())
            .WithName("live-events");
        app.MapGet(JsonPath, Results<JsonHttpResult<LiveEventsSnapshot>, JsonHttpResult<ErrorAnswer>> (
            HttpContext context, LiveEventsRecorder recorder, IOptions<LiveEventsOptions> options) =>
        {
            if (!options.Value.Enabled)
                return Off();
            if (admin is not null && !admin.Admits(context.Request))
                return AdminToken.Refused(context);
            context.Response.Headers.CacheControl = "no-store";
            return TypedResults.Json(recorder.Read());
        }).WithName("live-events-json");
        return app;
    }

    private static JsonHttpResult<ErrorAnswer> Off() => TypedResults.Json(
        new ErrorAnswer($"the live events view is off; start the collector with {LiveEventsOptions.Section}:Enabled=true to turn it on", $"{LiveEventsOptions.Section}:Enabled"),
        statusCode: StatusCodes.Status404NotFound);
}
