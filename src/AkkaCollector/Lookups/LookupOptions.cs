namespace AkkaCollector.Lookups;

/// <summary>Where Redis is (<c>Redis:*</c>). No configuration string: the Redis lookups (rate limit, app registry) are off.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>redis-1:6379,redis-2:6379,password=...</c>.</summary>
    public string? Configuration { get; init; }

    /// <summary>Prefix of every key the collector reads or writes, so it can share a Redis with other services.</summary>
    public string KeyPrefix { get; init; } = "collector:";

    /// <summary>Bound of one connection attempt; short, because a black-holed Redis host would hold each attempt this long.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);
}

/// <summary>One token bucket: <see cref="Rate"/> requests per second on average, up to <see cref="Burst"/> at once. Rate 0 turns it off.</summary>
public sealed class RateLimitRule
{
    public double Rate { get; init; }

    public int Burst { get; init; }

    public bool Enabled => Rate > 0;
}

/// <summary>Request rate limits (<c>RateLimit:*</c>), enforced in Redis so that every collector shares them.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";

    /// <summary>Per write key (per app): generous, it only stops a runaway producer.</summary>
    public RateLimitRule PerWriteKey { get; init; } = new() { Rate = 1000, Burst = 5000 };

    /// <summary>Per client address: one browser or server should never need more.</summary>
    public RateLimitRule PerClientIp { get; init; } = new() { Rate = 100, Burst = 500 };

    public bool Enabled => PerWriteKey.Enabled || PerClientIp.Enabled;
}

/// <summary>The app registry (<c>AppRegistry:*</c>): write key to app, read from the Redis hash <c>{prefix}app:{writeKey}</c>.</summary>
public sealed class AppRegistryOptions
{
    public const string Section = "AppRegistry";

    /// <summary>Off: every write key is accepted. On: unknown keys get 401, blocked apps 403.</summary>
    public bool Enabled { get; init; }

    /// <summary>How long an answer (known, blocked or unknown) is reused before Redis is asked again.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most write keys cached at once, so a flood of random keys cannot grow memory without bound.</summary>
    public int CacheCapacity { get; init; } = 100_000;
}

/// <summary>Geo-coding (<c>Geo:*</c>) from a local MaxMind GeoIP2/GeoLite2 City database.</summary>
public sealed class GeoOptions
{
    public const string Section = "Geo";

    /// <summary>Path of the .mmdb file; none means geo is off.</summary>
    public string? DatabasePath { get; init; }

    /// <summary>How often the file's modification time is checked; a changed file is loaded without a restart.</summary>
    public TimeSpan ReloadCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    public bool Enabled => !string.IsNullOrWhiteSpace(DatabasePath);
}
