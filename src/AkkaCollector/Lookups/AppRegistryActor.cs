using Akka.Actor;
using AkkaCollector.Observability;

namespace AkkaCollector.Lookups;

/// <summary>What the registry holds about one app.</summary>
/// <param name="Blocked">The app's events are refused (403).</param>
/// <param name="GeoEnabled">The app wants its events geo-coded.</param>
public sealed record AppRecord(bool Blocked, bool GeoEnabled);

/// <summary>Where apps are registered, by write key.</summary>
public interface IAppRegistryStore
{
    /// <summary>The app of <paramref name="writeKey"/>, or null when no app has that key.</summary>
    Task<AppRecord?> FindAsync(string writeKey, CancellationToken cancellationToken);
}

/// <summary>
/// Write key to app, behind the shared lookup breaker, with a short in-process cache of every answer (unknown keys
/// included, so a flood of bad keys does not become a flood of Redis calls). Its declared default: when the store
/// fails, times out or the breaker is open, the request is accepted, marked unverified, and the default is counted.
/// </summary>
public sealed class AppRegistryActor : ReceiveActor
{
    public const string LookupName = "app_registry";

    private readonly IAppRegistryStore _store;
    private readonly AppRegistryOptions _options;
    private readonly LookupBreaker _breaker;
    private readonly Dictionary<string, CachedApp> _cache = new(StringComparer.Ordinal);

    public AppRegistryActor(IAppRegistryStore store, AppRegistryOptions options, LookupBreakerSettings settings)
    {
        _store = store;
        _options = options;
        _breaker = new LookupBreaker(LookupName, settings, Context.System);
        Receive<FindApp>(HandleFind);
        Receive<AppFetched>(HandleFetched);
    }

    public static Props Props(IAppRegistryStore store, AppRegistryOptions options, LookupBreakerSettings settings) =>
        Akka.Actor.Props.Create(() => new AppRegistryActor(store, options, settings));

    private void HandleFind(FindApp find)
    {
        if (_cache.TryGetValue(find.WriteKey, out var cached) && cached.ExpiresAt > DateTime.UtcNow)
        {
            Sender.Tell(Answer(cached.App));
            return;
        }
        var replyTo = Sender;
        _breaker.CallAsync(cancellationToken => _store.FindAsync(find.WriteKey, cancellationToken))
            .PipeTo(Self, success: call => new AppFetched(find.WriteKey, call, replyTo));
    }

    private void HandleFetched(AppFetched fetched)
    {
        if (!fetched.Call.Succeeded)
        {
            CollectorMetrics.LookupDefaultsUsed.WithLabels(LookupName, "unverified").Inc();
            fetched.ReplyTo.Tell(AppAnswer.AcceptUnverified);
            return;
        }
        Remember(fetched.WriteKey, fetched.Call.Value);
        fetched.ReplyTo.Tell(Answer(fetched.Call.Value));
    }

    private void Remember(string writeKey, AppRecord? app)
    {
        var now = DateTime.UtcNow;
        if (_cache.Count >= _options.CacheCapacity && !_cache.ContainsKey(writeKey))
        {
            foreach (var (key, entry) in _cache)
                if (entry.ExpiresAt <= now)
                    _cache.Remove(key);
            // Still full of live entries: start over rather than track recency on every hit.
            if (_cache.Count >= _options.CacheCapacity)
                _cache.Clear();
        }
        _cache[writeKey] = new CachedApp(app, now + _options.CacheTtl);
    }

    private static AppAnswer Answer(AppRecord? app) => app switch
    {
        null => AppAnswer.Unknown,
        { Blocked: true } => AppAnswer.Blocked,
        _ => new AppAnswer(null, Unverified: false, app.GeoEnabled),
    };

    private sealed record CachedApp(AppRecord? App, DateTime ExpiresAt);

    private sealed record AppFetched(string WriteKey, LookupCall<AppRecord?> Call, IActorRef ReplyTo);
}

/// <summary>Asks <see cref="AppRegistryActor"/> which app a write key belongs to.</summary>
public sealed record FindApp(string WriteKey);

/// <summary>The registry's answer: a 401/403 rejection, or accept (possibly unverified) with the app's geo setting.</summary>
public sealed record AppAnswer(LookupRejection? Rejection, bool Unverified, bool GeoEnabled)
{
    public static readonly AppAnswer Unknown = new(new LookupRejection(401, "unknown write key"), false, false);
    public static readonly AppAnswer Blocked = new(new LookupRejection(403, "app blocked"), false, false);
    public static readonly AppAnswer AcceptUnverified = new(null, true, true);
    public static readonly AppAnswer Accepted = new(null, false, true);
}
