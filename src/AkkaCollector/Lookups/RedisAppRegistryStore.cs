using StackExchange.Redis;

namespace AkkaCollector.Lookups;

/// <summary>
/// Apps in Redis, one small hash per write key at <c>{prefix}app:{writeKey}</c>; HGETALL is O(fields), a handful.
/// Fields: <c>blocked</c> ("1"/"true" refuses the app's events), <c>geo</c> ("0"/"false"/"off" turns geo-coding off);
/// any other field (a name, an owner) only makes the hash exist. An empty or missing hash is an unknown key.
/// </summary>
public sealed class RedisAppRegistryStore(RedisConnection connection) : IAppRegistryStore
{
    private readonly string _keyPrefix = connection.KeyPrefix + "app:";

    public async Task<AppRecord?> FindAsync(string writeKey, CancellationToken cancellationToken)
    {
        var database = await connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var fields = await database.HashGetAllAsync(_keyPrefix + writeKey).ConfigureAwait(false);
        if (fields.Length == 0)
            return null;
        var blocked = false;
        var geo = true;
        foreach (var field in fields)
        {
            if (field.Name == "blocked")
                blocked = IsOn(field.Value);
            else if (field.Name == "geo")
                geo = !IsOff(field.Value);
        }
        return new AppRecord(blocked, geo);
    }

    private static bool IsOn(RedisValue value) => Normalize(value) is "1" or "true" or "on" or "yes";

    private static bool IsOff(RedisValue value) => Normalize(value) is "0" or "false" or "off" or "no";

    private static string Normalize(RedisValue value) => value.ToString().Trim().ToLowerInvariant();
}
