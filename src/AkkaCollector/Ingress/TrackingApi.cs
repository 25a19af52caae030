using System.Diagnostics;
using System.Globalization;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Spooling;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AkkaCollector.Ingress;

/// <summary>
/// The producer-facing HTTP API: Segment's tracking API (/v1/*, with the short paths analytics.js and the mobile SDKs
/// post to), RudderStack's beacon batch, Segment's pixel API, and Heap's server-side track (/api/track).
/// Per request: check the browser origin (<see cref="BrowserOrigins"/>, only when an Origin header came) → read the body
/// (bounded, gzip inflated under the same bound) → parse and validate every event → resolve the client address →
/// lookups (rate limit, app registry, geo) → write enriched events → spool them → answer 200 only once the spool says
/// they are in the journal. Every answer is counted by route, status and cause.
/// </summary>
public static class TrackingApi
{
    /// <summary>The POST routes, each with the API it speaks and whether its write key may come in the query.</summary>
    private static readonly (string Pattern, IngressRoute Route, bool WriteKeyInQuery)[] Routes =
    [
        ("/v1/track", IngressRoute.Track, false),
        ("/v1/identify", IngressRoute.Identify, false),
        ("/v1/page", IngressRoute.Page, false),
        ("/v1/screen", IngressRoute.Screen, false),
        ("/v1/group", IngressRoute.Group, false),
        ("/v1/alias", IngressRoute.Alias, false),
        ("/v1/batch", IngressRoute.Batch, false),
        // analytics.js posts each call to {apiHost}/ + the first letter of its type, and batches to /b; analytics-swift
        // and analytics-kotlin post their batches to {apiHost}/b (apiHost defaults to api.segment.io/v1).
        ("/v1/t", IngressRoute.Track, false),
        ("/v1/i", IngressRoute.Identify, false),
        ("/v1/p", IngressRoute.Page, false),
        ("/v1/s", IngressRoute.Screen, false),
        ("/v1/g", IngressRoute.Group, false),
        ("/v1/a", IngressRoute.Alias, false),
        ("/v1/b", IngressRoute.Batch, false),
        // The classic analytics-android uploads its batches to /v1/import.
        ("/v1/import", IngressRoute.Batch, false),
        // RudderStack's browser SDK with useBeacon: navigator.sendBeacon to /beacon/v1/batch?writeKey=...
        ("/beacon/v1/batch", IngressRoute.Batch, true),
        ("/api/track", IngressRoute.HeapTrack, false),
    ];

    /// <summary>Segment's pixel API: one GET route per call type.</summary>
    private static readonly (string Pattern, IngressRoute Route)[] PixelRoutes =
    [
        ("/v1/pixel/track", IngressRoute.Track),
        ("/v1/pixel/identify", IngressRoute.Identify),
        ("/v1/pixel/page", IngressRoute.Page),
        ("/v1/pixel/screen", IngressRoute.Screen),
        ("/v1/pixel/group", IngressRoute.Group),
        ("/v1/pixel/alias", IngressRoute.Alias),
    ];

    /// <summary>
    /// analytics.js posts its own telemetry (<c>{"series":[...]}</c>) to {apiHost}/m. It is no event: the body is read
    /// under the request limit and discarded, answered 200 so the SDK sees no failure, counted with cause <c>discarded</c>.
    /// </summary>
    public const string SdkMetricsPattern = "/v1/m";

    /// <summary>Registers what the tracking API needs besides the spool: its options (validated at start), the client address resolver, the browser origins, and no lookups unless others are registered.</summary>
    public static IServiceCollection AddTrackingApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngressOptions>().Bind(configuration.GetSection(IngressOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngressOptions>, IngressOptionsValidator>();
        // The window lives in each spooler (it knows what it stored); the setting is the HTTP API's (retried requests).
        services.AddOptions<SpoolOptions>().Configure<IOptions<IngressOptions>>((spool, ingress) => spool.DedupWindow = ingress.Value.DedupWindow);
        services.AddSingleton<ClientAddressResolver>();
        services.AddSingleton<BrowserOrigins>();
        services.TryAddSingleton<IRequestLookups, NoLookups>();
        return services;
    }

    /// <summary>
    /// Maps the POST routes (long and short Segment paths, /v1/import, RudderStack's beacon, /api/track), the pixel's GET
    /// routes, /v1/m, and a CORS preflight (OPTIONS) on each; needs an <see cref="IEventSpool"/> and <see cref="AddTrackingApi"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapTrackingApi(this IEndpointRouteBuilder app)
    {
        var origins = new OriginsHolder();
        foreach (var (pattern, route, writeKeyInQuery) in Routes)
        {
            var metrics = new RouteMetrics(pattern);
            app.MapPost(pattern, (HttpContext context, [FromServices] IEventSpool spool, [FromServices] IRequestLookups lookups,
                        [FromServices] IOptions<IngressOptions> options, [FromServices] ClientAddressResolver addresses) =>
                    AnswerCountedAsync(metrics, route, writeKeyInQuery, context, spool, lookups, options.Value, addresses, origins))
                .WithName($"ingress:{pattern}");
            MapPreflight(app, pattern, metrics, HttpMethods.Post, origins);
        }
        foreach (var (pattern, route) in PixelRoutes)
        {
            var metrics = new RouteMetrics(pattern);
            app.MapGet(pattern, (HttpContext context, [FromServices] IEventSpool spool, [FromServices] IRequestLookups lookups,
                        [FromServices] IOptions<IngressOptions> options, [FromServices] ClientAddressResolver addresses) =>
                    AnswerPixelAsync(metrics, route, context, spool, lookups, options.Value, addresses, origins))
                .WithName($"ingress:{pattern}");
            MapPreflight(app, pattern, metrics, HttpMethods.Get, origins);
        }
        var sdkMetrics = new RouteMetrics(SdkMetricsPattern);
        app.MapPost(SdkMetricsPattern, (HttpContext context, [FromServices] IOptions<IngressOptions> options) =>
                AnswerSdkMetricsAsync(sdkMetrics, context, options.Value, origins))
            .WithName($"ingress:{SdkMetricsPattern}");
        MapPreflight(app, SdkMetricsPattern, sdkMetrics, HttpMethods.Post, origins);
        return app;
    }

    private static async Task<Results<Ok<IngressSuccess>, IngressError>> AnswerCountedAsync(
        RouteMetrics metrics, IngressRoute route, bool writeKeyInQuery, HttpContext context, IEventSpool spool, IRequestLookups lookups,
        IngressOptions options, ClientAddressResolver addresses, OriginsHolder origins)
    {
        var started = Stopwatch.GetTimestamp();
        Results<Ok<IngressSuccess>, IngressError> result;
        // A known-header read: requests without an Origin (servers, phones) pay nothing more for CORS.
        var origin = context.Request.Headers.Origin;
        if (origin.Count != 0 && !origins.AllowAndAnswer(context, origin.ToString()))
        {
            result = IngressError.OriginNotAllowed(origin.ToString());
            metrics.Count(result.Result as IngressError, Stopwatch.GetElapsedTime(started));
            return result;
        }
        try
        {
            var queryWriteKey = writeKeyInQuery ? PixelApi.WriteKeyParameter(context.Request.Query) : null;
            result = await AnswerAsync(route, context, spool, lookups, options, addresses, presetBody: null, queryWriteKey);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            result = IngressError.ClientClosed;
        }
        metrics.Count(result.Result as IngressError, Stopwatch.GetElapsedTime(started));
        return result;
    }

    /// <summary>A pixel: the event from the query, stored like any other, and always a 200 GIF that is never cached.</summary>
    private static async Task<FileContentHttpResult> AnswerPixelAsync(
        RouteMetrics metrics, IngressRoute route, HttpContext context, IEventSpool spool, IRequestLookups lookups,
        IngressOptions options, ClientAddressResolver addresses, OriginsHolder origins)
    {
        var started = Stopwatch.GetTimestamp();
        IngressError? error;
        var origin = context.Request.Headers.Origin;
        if (origin.Count != 0 && !origins.AllowAndAnswer(context, origin.ToString()))
        {
            error = IngressError.OriginNotAllowed(origin.ToString());
        }
        else if (!PixelApi.ReadEvent(context.Request.Query, options.MaxEventBytes).TryGetValue(out var body, out error))
        {
            // Counted below by its cause; the image is answered all the same.
        }
        else
        {
            try
            {
                var result = await AnswerAsync(route, context, spool, lookups, options, addresses, body, PixelApi.WriteKeyParameter(context.Request.Query));
                error = result.Result as IngressError;
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                error = IngressError.ClientClosed;
            }
        }
        metrics.Count(StatusCodes.Status200OK, error?.Cause ?? "ok", Stopwatch.GetElapsedTime(started));
        context.Response.Headers.CacheControl = "no-store, max-age=0";
        return TypedResults.File(PixelApi.TransparentGif, "image/gif");
    }

    private static async Task<Results<Ok<IngressSuccess>, IngressError>> AnswerSdkMetricsAsync(
        RouteMetrics metrics, HttpContext context, IngressOptions options, OriginsHolder origins)
    {
        var started = Stopwatch.GetTimestamp();
        Results<Ok<IngressSuccess>, IngressError> result;
        var origin = context.Request.Headers.Origin;
        if (origin.Count != 0 && !origins.AllowAndAnswer(context, origin.ToString()))
        {
            result = IngressError.OriginNotAllowed(origin.ToString());
        }
        else
        {
            var read = await RequestBodyReader.ReadAsync(context.Request, options.MaxRequestBytes, context.RequestAborted);
            if (read.TryGetValue(out var body, out var error))
            {
                body.Dispose();
                metrics.Count(StatusCodes.Status200OK, "discarded", Stopwatch.GetElapsedTime(started));
                return TypedResults.Ok(IngressSuccess.Stored);
            }
            result = error;
        }
        metrics.Count(result.Result as IngressError, Stopwatch.GetElapsedTime(started));
        return result;
    }

    private static void MapPreflight(IEndpointRouteBuilder app, string pattern, RouteMetrics metrics, string method, OriginsHolder origins) =>
        app.MapMethods(pattern, [HttpMethods.Options], (HttpContext context) => Preflight(context, metrics, method, origins))
            .WithName($"preflight:{pattern}");

    /// <summary>
    /// A CORS preflight (or a plain OPTIONS): 204 with the methods, headers and max-age for an allowed origin; 403
    /// <c>origin_not_allowed</c> without CORS headers for another; 405 <c>method_not_allowed</c> naming the served
    /// method when the browser asks for one the route does not serve. Counted with cause <c>preflight</c> when answered 204.
    /// </summary>
    private static IResult Preflight(HttpContext context, RouteMetrics metrics, string method, OriginsHolder origins)
    {
        var started = Stopwatch.GetTimestamp();
        var headers = context.Request.Headers;
        var origin = headers.Origin.ToString();
        var allowed = $"{method}, {HttpMethods.Options}";
        IngressError? error = null;
        if (origin.Length != 0 && !origins.AllowAndAnswer(context, origin))
        {
            error = IngressError.OriginNotAllowed(origin);
        }
        else
        {
            context.Response.Headers.Allow = allowed;
            var requested = headers.AccessControlRequestMethod.ToString();
            if (requested.Length != 0 && !string.Equals(requested, method, StringComparison.OrdinalIgnoreCase))
                error = IngressError.PreflightMethodNotAllowed(requested, method);
            else if (origin.Length != 0)
                BrowserOrigins.AddPreflightHeaders(context.Response, allowed);
        }
        if (error is not null)
        {
            metrics.Count(error, Stopwatch.GetElapsedTime(started));
            return error;
        }
        metrics.Count(StatusCodes.Status204NoContent, "preflight", Stopwatch.GetElapsedTime(started));
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The <see cref="BrowserOrigins"/>, resolved at the first request that carries an Origin rather than when routes are
    /// mapped: its settings are validated when the host starts, where an invalid one fails legibly.
    /// </summary>
    private sealed class OriginsHolder
    {
        private BrowserOrigins? _origins;

        /// <summary>True, with the CORS answer headers set, when <paramref name="origin"/> may send; false (and no header) otherwise.</summary>
        public bool AllowAndAnswer(HttpContext context, string origin)
        {
            var origins = _origins ??= context.RequestServices.GetRequiredService<BrowserOrigins>();
            if (!origins.Allows(origin))
                return false;
            BrowserOrigins.AddAnswerHeaders(context.Response, origin);
            return true;
        }
    }

    /// <summary>One route's counters, its 200s and its latency looked up once rather than by label on every request.</summary>
    private sealed class RouteMetrics(string pattern)
    {
        private readonly Prometheus.Counter.Child _stored = CollectorMetrics.HttpRequests.WithLabels(pattern, "200", "ok");
        private readonly Prometheus.Histogram.Child _latency = CollectorMetrics.HttpRequestSeconds.WithLabels(pattern);

        public void Count(IngressError? error, TimeSpan elapsed)
        {
            if (error is null)
                _stored.Inc();
            else
                CollectorMetrics.HttpRequests.WithLabels(pattern, error.StatusCode.ToString(CultureInfo.InvariantCulture), error.Cause).Inc();
            _latency.Observe(elapsed.TotalSeconds);
        }

        public void Count(int status, string cause, TimeSpan elapsed)
        {
            if (status == StatusCodes.Status200OK && cause == "ok")
                _stored.Inc();
            else
                CollectorMetrics.HttpRequests.WithLabels(pattern, status.ToString(CultureInfo.InvariantCulture), cause).Inc();
            _latency.Observe(elapsed.TotalSeconds);
        }
    }

    /// <param name="presetBody">The body when it does not come from the request's (the pixel's query); owned and disposed here.</param>
    /// <param name="queryWriteKey">A write key from the URL, used when neither Basic auth nor the body has one.</param>
    private static async Task<Results<Ok<IngressSuccess>, IngressError>> AnswerAsync(
        IngressRoute route, HttpContext context, IEventSpool spool, IRequestLookups lookups, IngressOptions options, ClientAddressResolver addresses,
        RequestBody? presetBody, string? queryWriteKey)
    {
        var cancellationToken = context.RequestAborted;
        var receivedAt = (context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        SpooledEvent[] events;
        // The body and its JSON document are released before the spool is awaited: a request waiting for a journal
        // write holds only its finished payloads, not the pooled buffer it was read into.
        var read = presetBody is not null
            ? (OrError<RequestBody>)presetBody
            : await RequestBodyReader.ReadAsync(context.Request, options.MaxRequestBytes, cancellationToken);
        if (!read.TryGetValue(out var body, out var error))
            return error;
        using (body)
        {
            var parsed = EventParser.Parse(body.Memory, route, context.Request.Headers.Authorization, options, queryWriteKey);
            if (!parsed.TryGetValue(out var request, out error))
                return error;
            using (request)
            {
                var client = addresses.Resolve(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"]);
                var verdict = await lookups.CheckAsync(request.WriteKey, client, cancellationToken);
                if (verdict.Rejection is { } rejection)
                    return IngressError.Rejected(rejection);
                var userAgent = context.Request.Headers.UserAgent;
                events = EventWriter.Write(request, new Enrichment(receivedAt, client, verdict.Geo, verdict.Unverified,
                    userAgent.Count == 0 || StringValues.IsNullOrEmpty(userAgent) ? null : userAgent.ToString()));
            }
        }

        CollectorMetrics.EventsAccepted.Inc(events.Length);
        var retryAfter = TimeSpan.FromSeconds(options.RetryAfterSeconds);
        try
        {
            return await spool.SpoolAsync(events, cancellationToken) switch
            {
                SpoolOutcome.Stored => TypedResults.Ok(IngressSuccess.Stored),
                SpoolOutcome.Full => IngressError.SpoolFull(retryAfter),
                _ => IngressError.JournalFailed(retryAfter),
            };
        }
        catch (TimeoutException)
        {
            return IngressError.SpoolTimedOut(retryAfter);
        }
    }
}
