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

namespace AkkaCollector.Ingress;

/// <summary>
/// The producer-facing HTTP API: Segment's tracking API (/v1/*) and Heap's server-side track (/api/track).
/// Per request: read the body (bounded, gzip inflated under the same bound) → parse and validate every event →
/// resolve the client address → lookups (rate limit, app registry, geo) → write enriched events → spool them →
/// answer 200 only once the spool says they are in the journal. Every answer is counted by route, status and cause.
/// </summary>
public static class TrackingApi
{
    private static readonly (string Pattern, IngressRoute Route)[] Routes =
    [
        ("/v1/track", IngressRoute.Track),
        ("/v1/identify", IngressRoute.Identify),
        ("/v1/page", IngressRoute.Page),
        ("/v1/screen", IngressRoute.Screen),
        ("/v1/group", IngressRoute.Group),
        ("/v1/alias", IngressRoute.Alias),
        ("/v1/batch", IngressRoute.Batch),
        ("/api/track", IngressRoute.HeapTrack),
    ];

    /// <summary>Registers what the tracking API needs besides the spool: its options (validated at start), the client address resolver, and no lookups unless others are registered.</summary>
    public static IServiceCollection AddTrackingApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngressOptions>().Bind(configuration.GetSection(IngressOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngressOptions>, IngressOptionsValidator>();
        services.AddSingleton<ClientAddressResolver>();
        services.TryAddSingleton<IRequestLookups, NoLookups>();
        return services;
    }

    /// <summary>Maps POST /v1/track, identify, page, screen, group, alias, batch and /api/track; needs an <see cref="IEventSpool"/> and <see cref="AddTrackingApi"/>.</summary>
    public static IEndpointRouteBuilder MapTrackingApi(this IEndpointRouteBuilder app)
    {
        var live = app.ServiceProvider.GetService<LiveEventsRecorder>();
        foreach (var (pattern, route) in Routes)
        {
            var metrics = new RouteMetrics(pattern);
            app.MapPost(pattern, (HttpContext context, [FromServices] IEventSpool spool, [FromServices] IRequestLookups lookups,
                        [FromServices] IOptions<IngressOptions> options, [FromServices] ClientAddressResolver addresses) =>
                    AnswerCountedAsync(metrics, route, context, spool, lookups, options.Value, addresses, live))
                .WithName($"ingress:{pattern}");
        }
        return app;
    }

    private static async Task<Results<Ok<IngressSuccess>, IngressError>> AnswerCountedAsync(RouteMetrics metrics, IngressRoute route,
        HttpContext context, IEventSpool spool, IRequestLookups lookups, IngressOptions options, ClientAddressResolver addresses, LiveEventsRecorder? live)
    {
        var started = Stopwatch.GetTimestamp();
        Results<Ok<IngressSuccess>, IngressError> result;
        try
        {
            result = await AnswerAsync(route, context, spool, lookups, options, addresses, live);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            result = IngressError.ClientClosed;
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
        ?? (EventParser.TryReadBasicUsername(context.Request.Headers.Authorization, out var username) ? username : null)
        ?? NoWriteKey;

    // Where a rejected request's write key waits for the live events view (set only while it records), and what a
    // request that was rejected before any write key was read is filed under.
    private const string LiveWriteKey = "live-events:write-key";
    private const string NoWriteKey = "(no write key)";

    private static Ok<IngressSuccess> Stored(SpooledEvent[] events, LiveEventsRecorder? live)
    {
        if (live is { IsRecording: true })
        {
            foreach (var stored in events)
                live.RecordStored(stored.WriteKey, stored.MessageId, stored.Type, stored.Payload);
        }
        return TypedResults.Ok(IngressSuccess.Stored);
    }

    /// <summary>One route's counters, its 200s and its latency looked up once rather than by label on every request.</summary>
    private sealed class RouteMetrics(string pattern)
    {
        public string Pattern => pattern;

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
    }

    private static async Task<Results<Ok<IngressSuccess>, IngressError>> AnswerAsync(IngressRoute route,
        HttpContext context, IEventSpool spool, IRequestLookups lookups, IngressOptions options, ClientAddressResolver addresses, LiveEventsRecorder? live)
    {
        var cancellationToken = context.RequestAborted;
        var receivedAt = (context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        SpooledEvent[] events;
        // The body and its JSON document are released before the spool is awaited: a request waiting for a journal
        // write holds only its finished payloads, not the pooled buffer it was read into.
        var read = await RequestBodyReader.ReadAsync(context.Request, options.MaxRequestBytes, cancellationToken);
        if (!read.TryGetValue(out var body, out var error))
            return error;
        using (body)
        {
            var parsed = EventParser.Parse(body.Memory, route, context.Request.Headers.Authorization, options);
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
                events = EventWriter.Write(request, new Enrichment(receivedAt, client, verdict.Geo, verdict.Unverified));
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
