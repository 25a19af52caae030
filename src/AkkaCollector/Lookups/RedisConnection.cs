using StackExchange.Redis;

namespace AkkaCollector.Lookups;

/// <summary>
/// The one Redis connection the lookups share, configured so that it never makes a request wait: it connects in the
/// background, fails commands at once while disconnected, and its timeouts are at most the breaker's call-timeout.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly Task<ConnectionMultiplexer> _connecting;

    public RedisConnection(RedisOptions options, LookupBreakerSettings breaker)
    {
        Options = CreateOptions(options, breaker.CallTimeout);
        KeyPrefix = options.KeyPrefix;
        // With AbortOnConnectFail off this completes after the first attempt even when Redis is down, and the
        // multiplexer keeps reconnecting in the background; lookups await it inside their breaker call.
        _connecting = ConnectionMultiplexer.ConnectAsync(Options);
    }

    public ConfigurationOptions Options { get; }

    public string KeyPrefix { get; }

    /// <summary>The database, once the first connection attempt is over; the token bounds the wait.</summary>
    public async Task<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken)
    {
        var multiplexer = await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        return multiplexer.GetDatabase();
    }

    /// <summary>
    /// The client settings the breaker relies on. StackExchange.Redis would otherwise queue commands for 5 s while
    /// disconnected (the default backlog policy) and time them out only on its 1 s heartbeat; neither may hold a request.
    /// </summary>
    public static ConfigurationOptions CreateOptions(RedisOptions options, TimeSpan callTimeout)
    {
        var config = ConfigurationOptions.Parse(options.Configuration
            ?? throw new InvalidOperationException("Redis:Configuration is not set."));
        var callTimeoutMs = (int)Math.Ceiling(callTimeout.TotalMilliseconds);
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.SyncTimeout = Math.Min(config.SyncTimeout, callTimeoutMs);
        config.AsyncTimeout = Math.Min(config.AsyncTimeout, callTimeoutMs);
        config.ConnectTimeout = Math.Min(config.ConnectTimeout, (int)options.ConnectTimeout.TotalMilliseconds);
        // The default reconnect backoff grows to 10 s; a Redis that is back within seconds should be used within seconds.
        config.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 250, maxDeltaBackOffMilliseconds: 2000);
        return config;
    }

    public void Dispose()
    {
        // A connect still in flight is disposed when it ends, so no multiplexer outlives the actor system.
        _connecting.ContinueWith(
            task => task.Result.Dispose(),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
