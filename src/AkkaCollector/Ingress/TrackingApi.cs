using System.Diagnostics;
using System.Globalization;
using AkkaCollector.LiveEvents;
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
    /// <summary>Segment's tracking API: every route below is under this prefix (one route group).</summary>
    public const string SegmentPrefix = "/v1";

    /// <summary>Segment's POST routes under <see cref="SegmentPrefix"/>, each with the call it takes.</summary>
    private static readonly (string Path, IngressRoute Route)[] SegmentRoutes =
    [
        ("/track", IngressRoute.Track),
        ("/identify", IngressRoute.Identify),
        ("/page", IngressRoute.Page),
        ("/screen", IngressRoute.Screen),
        ("/group", IngressRoute.Group),
        ("/alias", IngressRoute.Alias),
        ("/batch", IngressRoute.Batch),
        // analytics.js posts each call to {apiHost}/ + the first letter of its type, and batches to /b; analytics-swift
        // and analytics-kotlin post their batches to {apiHost}/b (apiHost defaults to api.segment.io/v1).
        ("/t", IngressRoute.Track),
        ("/i", IngressRoute.Identify),
        ("/p", IngressRoute.Page),
        ("/s", IngressRoute.Screen),
        ("/g", IngressRoute.Group),
        ("/a", IngressRoute.Alias),
        ("/b", IngressRoute.Batch),
        // The classic analytics-android uploads its batches to /v1/import.
        ("/import", IngressRoute.Batch),
    ];

    /// <summary>Segment's pixel API under <see cref="SegmentPrefix"/>: one GET route per call type.</summary>
    private static readonly (string Path, IngressRoute Route)[] PixelRoutes =
    [
        ("/pixel/track", IngressRoute.Track),
        ("/pixel/identify", IngressRoute.Identify),
        ("/pixel/page", IngressRoute.Page),
        ("/pixel/screen", IngressRoute.Screen),
        ("/pixel/group", IngressRoute.Group),
        ("/pixel/alias", IngressRoute.Alias),
    ];

    /// <summary>
    /// analytics.js posts its own telemetry (<c>{"series":[...]}</c>) to {apiHost}/m. It is no event: the body is read
    /// under the request limit and discarded, answered 200 so the SDK sees no failure, counted with cause <c>discarded</c>.
    /// </summary>
    private const string SdkMetricsPath = "/m";

    /// <summary>The other APIs' POST routes, each with the call it takes and whether its write key may come in the query.</summary>
    private static readonly (string Pattern, IngressRoute Route, bool WriteKeyInQuery)[] OtherRoutes =
    [
        // RudderStack's browser SDK with useBeacon: navigator.sendBeacon to /beacon/v1/batch?writeKey=...
        ("/beacon/v1/batch", IngressRoute.Batch, true),
        ("/api/track", IngressRoute.HeapTrack, false),
    ];

    /// <summary>Registers what the tracking API needs besides the spool: its options (validated at start), the client address resolver, the browser origins, and no lookups unless others are registered.</summary>
    public static IServiceCollection AddTrackingApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<IngressOptions>(configuration, IngressOptions.SectionName);
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
        var live = app.ServiceProvider.GetService<LiveEventsRecorder>();
        var segment = app.MapGroup(SegmentPrefix);
        foreach (var (path, route) in SegmentRoutes)
            MapEvents(segment, path, new RouteMetrics(SegmentPrefix + path), route, writeKeyInQuery: false, origins, live);
        foreach (var (pattern, route, writeKeyInQuery) in OtherRoutes)
            MapEvents(app, pattern, new RouteMetrics(pattern), route, writeKeyInQuery, origins, live);
        foreach (var (path, route) in PixelRoutes)
        {
            var metrics = new RouteMetrics(SegmentPrefix + path);
            segment.MapGet(path, (HttpContext context, [FromServices] IEventSpool spool, [FromServices] IRequestLookups lookups,
                        [FromServices] IOptions<IngressOptions> options, [FromServices] ClientAddressResolver addresses) =>
                    AnswerPixelAsync(metrics, route, context, spool, lookups, options.Value, addresses, origins, live))
                .WithName($"ingress:{metrics.Pattern}");
            MapPreflight(segment, path, metrics, HttpMethods.Get, origins);
        }
        var sdkMetrics = new RouteMetrics(SegmentPrefix + SdkMetricsPath);
        segment.MapPost(SdkMetricsPath, (HttpContext context, [FromServices] IOptions<IngressOptions> options) =>
                AnswerSdkMetricsAsync(sdkMetrics, context, options.Value, origins))
            .WithName($"ingress:{sdkMetrics.Pattern}");
        MapPreflight(segment, SdkMetricsPath, sdkMetrics, HttpMethods.Post, origins);
        return app;
    }

    /// <summary>A POST route that takes events, with its CORS preflight.</summary>
    private static void MapEvents(IEndpointRouteBuilder builder, string path, RouteMetrics metrics, IngressRoute route, bool writeKeyInQuery,
        OriginsHolder origins, LiveEventsRecorder? live)
    {
        builder.MapPost(path, (HttpContext context, [FromServices] IEventSpool spool, [FromServices] IRequestLookups lookups,
                    [FromServices] IOptions<IngressOptions> options, [FromServices] ClientAddressResolver addresses) =>
                AnswerCountedAsync(metrics, route, writeKeyInQuery, context, spool, lookups, options.Value, addresses, origins, live))
            .WithName($"ingress:{metrics.Pattern}");
        MapPreflight(builder, path, metrics, HttpMethods.Post, origins);
    }

    private static async Task<Results<IngressSuccess, IngressError>> AnswerCountedAsync(
        RouteMetrics metrics, IngressRoute route, bool writeKeyInQuery, HttpContext context, IEventSpool spool, IRequestLookups lookups,
        IngressOptions options, ClientAddressResolver addresses, OriginsHolder origins, LiveEventsRecorder? live)
    {
        var started = Stopwatch.GetTimestamp();
        Results<IngressSuccess, IngressError> result;
        if (origins.Refusal(context) is { } refused)
        {
            result = refused;
        }
        else
        {
            try
            {
                var queryWriteKey = writeKeyInQuery ? PixelApi.WriteKeyParameter(context.Request.Query) : null;
                result = await AnswerAsync(route, context, spool, lookups, options, addresses, presetBody: null, queryWriteKey, live);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                result = IngressError.ClientClosed;
            }
        }
        var error = result.Result as IngressError;
        metrics.Count(error, Stopwatch.GetElapsedTime(started));
        if (error is not null && live is { IsRecording: true })
            live.RecordRejected(WriteKeyOfRejected(context), metrics.Pattern, error.StatusCode, error.Error, error.Field);
        return result;
    }

    // A request refused before its body was parsed is filed under its Basic username, if it has one.
    private static string WriteKeyOfRejected(HttpContext context) =>
        context.Items[LiveWriteKey] as string
        ?? (BasicCredentials.TryReadUsername(context.Request.Headers.Authorization, out var username) ? username : null)
        ?? NoWriteKey;

    // Where a rejected request's write key waits for the live events view (set only while it records), and what a
    // request that was rejected before any write key was read is filed under.
    private const string LiveWriteKey = "live-events:write-key";
    private const string NoWriteKey = "(no write key)";

    private static IngressSuccess Stored(SpooledEvent[] events, LiveEventsRecorder? live)
    {
        if (live is { IsRecording: true })
        {
            foreach (var stored in events)
                live.RecordStored(stored.WriteKey, stored.MessageId, stored.Type, stored.Payload);
        }
        return IngressSuccess.Stored;
    }

    /// <summary>A pixel: the event from the query, stored like any other, and always a 200 GIF that is never cached.</summary>
    private static async Task<FileContentHttpResult> AnswerPixelAsync(
        RouteMetrics metrics, IngressRoute route, HttpContext context, IEventSpool spool, IRequestLookups lookups,
        IngressOptions options, ClientAddressResolver addresses, OriginsHolder origins, LiveEventsRecorder? live)
    {
        var started = Stopwatch.GetTimestamp();
        var error = origins.Refusal(context);
        if (error is not null || !PixelApi.ReadEvent(context.Request.Query, options.MaxEventBytes).TryGetValue(out var body, out error))
        {
            // Counted below by its cause; the image is answered all the same.
        }
        else
        {
            try
            {
                var result = await AnswerAsync(route, context, spool, lookups, options, addresses, body, PixelApi.WriteKeyParameter(context.Request.Query), live);
                error = result.Result as IngressError;
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                error = IngressError.ClientClosed;
            }
        }
        metrics.Count(StatusCodes.Status200OK, error?.Cause ?? RouteMetrics.OkCause, Stopwatch.GetElapsedTime(started));
        context.Response.Headers.CacheControl = "no-store, max-age=0";
        return TypedResults.File(PixelApi.TransparentGif, "image/gif");
    }

    private static async Task<Results<IngressSuccess, IngressError>> AnswerSdkMetricsAsync(
        RouteMetrics metrics, HttpContext context, IngressOptions options, OriginsHolder origins)
    {
        var started = Stopwatch.GetTimestamp();
        Results<IngressSuccess, IngressError> result;
        if (origins.Refusal(context) is { } refused)
        {
            result = refused;
        }
        else
        {
            var read = await RequestBodyReader.ReadAsync(context.Request, options.MaxRequestBytes, context.RequestAborted);
            if (read.TryGetValue(out var body, out var error))
            {
                body.Dispose();
                metrics.Count(StatusCodes.Status200OK, "discarded", Stopwatch.GetElapsedTime(started));
                return IngressSuccess.Stored;
            }
            result = error;
        }
        metrics.Count(result.Result as IngressError, Stopwatch.GetElapsedTime(started));
        return result;
    }

    private static void MapPreflight(IEndpointRouteBuilder builder, string path, RouteMetrics metrics, string method, OriginsHolder origins) =>
        builder.MapMethods(path, [HttpMethods.Options], (HttpContext context) => Preflight(context, metrics, method, origins))
            .WithName($"preflight:{metrics.Pattern}");

    /// <summary>
    /// A CORS preflight (or a plain OPTIONS): 204 with the methods, headers and max-age for an allowed origin; 403
    /// <c>origin_not_allowed</c> without CORS headers for another; 405 <c>method_not_allowed</c> naming the served
    /// method when the browser asks for one the route does not serve. Counted with cause <c>preflight</c> when answered 204.
    /// </summary>
    private static Results<NoContent, IngressError> Preflight(HttpContext context, RouteMetrics metrics, string method, OriginsHolder origins)
    {
        var started = Stopwatch.GetTimestamp();
        var headers = context.Request.Headers;
        var allowed = $"{method}, {HttpMethods.Options}";
        var error = origins.Refusal(context);
        if (error is null)
        {
            context.Response.Headers.Allow = allowed;
            var requested = headers.AccessControlRequestMethod.ToString();
            if (requested.Length != 0 && !string.Equals(requested, method, StringComparison.OrdinalIgnoreCase))
                error = IngressError.PreflightMethodNotAllowed(requested, method);
            else if (!StringValues.IsNullOrEmpty(headers.Origin))
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

        /// <summary>
        /// Null when the request may go on: it has no Origin (servers, phones: one known-header read, nothing more for
        /// CORS), or its origin is allowed and the CORS answer headers are set. Otherwise the 403 <c>origin_not_allowed</c>,
        /// with no CORS header.
        /// </summary>
        public IngressError? Refusal(HttpContext context)
        {
            var origin = context.Request.Headers.Origin;
            if (origin.Count == 0)
                return null;
            var text = origin.ToString();
            if (!(_origins ??= context.RequestServices.GetRequiredService<BrowserOrigins>()).Allows(text))
                return IngressError.OriginNotAllowed(text);
            BrowserOrigins.AddAnswerHeaders(context.Response, text);
            return null;
        }
    }

    /// <summary>One route's counters, its 200s and its latency looked up once rather than by label on every request.</summary>
    private sealed class RouteMetrics(string pattern)
    {
        public string Pattern => pattern;

        /// <summary>The cause of an answer that stored what it was sent.</summary>
        public const string OkCause = "ok";
        private readonly Prometheus.Counter.Child _stored = CollectorMetrics.HttpRequests.WithLabels(pattern, "200", OkCause);
        private readonly Prometheus.Histogram.Child _latency = CollectorMetrics.HttpRequestSeconds.WithLabels(pattern);

        public void Count(IngressError? error, TimeSpan elapsed)
        {
            if (error is null)
                Count(StatusCodes.Status200OK, OkCause, elapsed);
            else
                Count(error.StatusCode, error.Cause, elapsed);
        }

        /// <summary>An answer by status and cause: a 200 <c>ok</c> is the stored request's child, looked up once.</summary>
        public void Count(int status, string cause, TimeSpan elapsed)
        {
            if (status == StatusCodes.Status200OK && cause == OkCause)
                _stored.Inc();
            else
                CollectorMetrics.HttpRequests.WithLabels(pattern, status.ToString(CultureInfo.InvariantCulture), cause).Inc();
            _latency.Observe(elapsed.TotalSeconds);
        }
    }

    /// <param name="presetBody">The body when it does not come from the request's (the pixel's query); owned and disposed here.</param>
    /// <param name="queryWriteKey">A write key from the URL, used when neither Basic auth nor the body has one.</param>
    private static async Task<Results<IngressSuccess, IngressError>> AnswerAsync(
        IngressRoute route, HttpContext context, IEventSpool spool, IRequestLookups lookups, IngressOptions options, ClientAddressResolver addresses,
        RequestBody? presetBody, string? queryWriteKey, LiveEventsRecorder? live)
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
                if (live is { IsRecording: true })
                    context.Items[LiveWriteKey] = request.WriteKey;
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
                SpoolOutcome.Stored => Stored(events, live),
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
