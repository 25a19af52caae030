using System.Net;
using Akka.Actor;
using AkkaCollector.Observability;

namespace AkkaCollector.Lookups;

/// <summary>Where rate-limit buckets live. One call takes one request from one bucket.</summary>
public interface IRateLimitStore
{
    /// <summary>Takes one request from <paramref name="bucket"/>: null when allowed, else how long until it would be.</summary>
    Task<TimeSpan?> TakeAsync(string bucket, RateLimitRule rule, CancellationToken cancellationToken);
}

/// <summary>
/// Rate limits per write key and per client address, behind the shared lookup breaker. Its declared default: when the
/// store fails, times out or the breaker is open, the request is allowed and the default "skipped" is counted.
/// </summary>
public sealed class RateLimitActor : ReceiveActor
{
    public const string LookupName = "rate_limit";

    private readonly IRateLimitStore _store;
    private readonly RateLimitOptions _options;
    private readonly LookupBreaker _breaker;

    public RateLimitActor(IRateLimitStore store, RateLimitOptions options, LookupBreakerSettings settings)
    {
        _store = store;
        _options = options;
        _breaker = new LookupBreaker(LookupName, settings, Context.System);
        Receive<CheckRateLimit>(HandleCheck);
    }

    public static Props Props(IRateLimitStore store, RateLimitOptions options, LookupBreakerSettings settings) =>
        Akka.Actor.Props.Create(() => new RateLimitActor(store, options, settings));

    private void HandleCheck(CheckRateLimit check)
    {
        // The answer changes no state here, so it goes straight to the asker and the mailbox stays free.
        CheckAsync(check).PipeTo(Sender);
    }

    private async Task<RateLimitAnswer> CheckAsync(CheckRateLimit check)
    {
        var call = await _breaker.CallAsync(cancellationToken => TakeAsync(check, cancellationToken)).ConfigureAwait(false);
        if (!call.Succeeded)
        {
            CollectorMetrics.LookupDefaultsUsed.WithLabels(LookupName, "skipped").Inc();
            return RateLimitAnswer.Allowed;
        }
        return call.Value is { } wait
            ? new RateLimitAnswer(new LookupRejection(429, "rate limited", wait))
            : RateLimitAnswer.Allowed;
    }

    private async Task<TimeSpan?> TakeAsync(CheckRateLimit check, CancellationToken cancellationToken)
    {
        var takes = new List<Task<TimeSpan?>>(2);
        if (_options.PerWriteKey.Enabled)
            takes.Add(_store.TakeAsync($"wk:{check.WriteKey}", _options.PerWriteKey, cancellationToken));
        if (_options.PerClientIp.Enabled && check.ClientAddress is { } address)
            takes.Add(_store.TakeAsync($"ip:{address}", _options.PerClientIp, cancellationToken));
        var waits = await Task.WhenAll(takes).ConfigureAwait(false);
        // Both buckets are asked at once (one round trip); the longer wait is the one the producer must honour.
        return waits.Max();
    }
}

/// <summary>Asks <see cref="RateLimitActor"/> whether one more request from this app and address may go on.</summary>
public sealed record CheckRateLimit(string WriteKey, IPAddress? ClientAddress);

/// <summary>The rate limiter's answer: a 429 rejection with Retry-After, or null to go on.</summary>
public sealed record RateLimitAnswer(LookupRejection? Rejection)
{
    public static readonly RateLimitAnswer Allowed = new((LookupRejection?)null);
}
