using System.Net;
using Akka.Actor;
using AkkaCollector.Observability;

namespace AkkaCollector.Lookups;

/// <summary>The lookup actors, once the actor system has started them; null refs are lookups that are off.</summary>
public sealed record LookupActors(IActorRef? RateLimiter, IActorRef? AppRegistry, TimeSpan AskTimeout);

/// <summary>Hands the lookup actors from the actor system's start-up to the request path (a DI singleton).</summary>
public sealed class LookupActorRefs
{
    private volatile LookupActors? _current;

    /// <summary>The actors, or null while the actor system is still starting.</summary>
    public LookupActors? Current => _current;

    public void Set(LookupActors actors) => _current = actors;
}

/// <summary>
/// The request-path lookups: rate limit and app registry asked in parallel (each answers within its breaker's
/// call-timeout), geo read in process meanwhile. Never throws: whatever does not answer in time gets its default.
/// </summary>
public sealed class CollectorLookups(LookupActorRefs actors, GeoCoder? geo) : IRequestLookups, IDisposable
{
    public async ValueTask<LookupVerdict> CheckAsync(string writeKey, IPAddress? clientAddress, CancellationToken cancellationToken)
    {
        // Before the actor system has started, the Redis lookups are simply not there yet: defaults, nothing counted.
        var started = actors.Current;
        var rateLimit = started?.RateLimiter is { } rateLimiter
            ? AskAsync(rateLimiter, new CheckRateLimit(writeKey, clientAddress), RateLimitAnswer.Allowed,
                RateLimitActor.LookupName, "skipped", started.AskTimeout, cancellationToken)
            : Task.FromResult(RateLimitAnswer.Allowed);
        var app = started?.AppRegistry is { } appRegistry
            ? AskAsync(appRegistry, new FindApp(writeKey), AppAnswer.AcceptUnverified,
                AppRegistryActor.LookupName, "unverified", started.AskTimeout, cancellationToken)
            : Task.FromResult(AppAnswer.Accepted);
        var location = geo?.Locate(clientAddress);
        var appAnswer = await app.ConfigureAwait(false);
        var rateAnswer = await rateLimit.ConfigureAwait(false);
        // Who the caller is decides before how fast it calls: 401/403 win over 429.
        return new LookupVerdict(
            appAnswer.Rejection ?? rateAnswer.Rejection,
            appAnswer.Unverified,
            appAnswer.GeoEnabled ? location : null);
    }

    public void Dispose() => geo?.Dispose();

    private static async Task<T> AskAsync<T>(IActorRef actor, object question, T fallback, string lookup, string defaultLabel,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await actor.Ask<T>(question, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The actor bounds its own call, so this is an overloaded mailbox or a caller that went away.
            if (!cancellationToken.IsCancellationRequested)
                CollectorMetrics.LookupDefaultsUsed.WithLabels(lookup, defaultLabel).Inc();
            return fallback;
        }
    }
}
