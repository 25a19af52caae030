using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace AkkaCollector.Lookups;

/// <summary>
/// Rate-limit buckets in Redis, one GCRA (generic cell rate algorithm) key per bucket. The script is O(1) (one GET,
/// one SET with expiry), uses Redis server time so collectors with skewed clocks agree, and is called by its SHA1.
/// </summary>
public sealed class RedisRateLimitStore(RedisConnection connection) : IRateLimitStore
{
    /// <summary>
    /// KEYS[1] holds the bucket's theoretical arrival time (TAT) in microseconds of server time.
    /// ARGV[1] = emission interval (1 / rate), ARGV[2] = tolerance (interval * burst), both in microseconds.
    /// Returns 0 when the request is allowed (and records it), else the microseconds until it would be allowed.
    /// The key expires when the bucket is full again, so idle buckets cost no memory.
    /// </summary>
    internal const string Script = """
        local interval = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local tat = tonumber(redis.call('GET', KEYS[1])) or now
        if tat < now then tat = now end
        local new_tat = tat + interval
        local wait = new_tat - tolerance - now
        if wait > 0 then return math.ceil(wait) end
        redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
        return 0
        """;

    private static readonly byte[] ScriptSha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Script));

    private readonly string _keyPrefix = connection.KeyPrefix + "rl:";

    public async Task<TimeSpan?> TakeAsync(string bucket, RateLimitRule rule, CancellationToken cancellationToken)
    {
        var database = await connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var intervalMicros = Math.Max(1L, (long)Math.Round(1_000_000 / rule.Rate));
        RedisKey[] keys = [_keyPrefix + bucket];
        RedisValue[] args = [intervalMicros, intervalMicros * Math.Max(1, rule.Burst)];
        RedisResult result;
        try
        {
            result = await database.ScriptEvaluateAsync(ScriptSha1, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // The server lost its script cache (restart, failover, SCRIPT FLUSH): EVAL runs the script and caches it
            // again, so the next call by SHA1 succeeds.
            result = await database.ScriptEvaluateAsync(Script, keys, args).ConfigureAwait(false);
        }
        var waitMicros = (long)result;
        return waitMicros > 0 ? TimeSpan.FromMicroseconds(waitMicros) : null;
    }
}
