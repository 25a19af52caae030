using System.Collections.Frozen;
using System.Reflection;

namespace AkkaCollector.KafkaMock;

/// <summary>Kafka protocol API keys the mock's request-error injection is most often aimed at.</summary>
public static class KafkaApiKey
{
    public const short Produce = 0;
    public const short Fetch = 1;
    public const short ListOffsets = 2;
    public const short Metadata = 3;
    public const short OffsetCommit = 8;
    public const short OffsetFetch = 9;
    public const short FindCoordinator = 10;
    public const short JoinGroup = 11;
    public const short Heartbeat = 12;
    public const short LeaveGroup = 13;
    public const short SyncGroup = 14;
    public const short ApiVersions = 18;
    public const short InitProducerId = 22;

    private static readonly FrozenDictionary<string, short> ByName = typeof(KafkaApiKey)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.IsLiteral)
        .ToFrozenDictionary(field => field.Name, field => (short)field.GetRawConstantValue()!, StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads an API key given by name (any case, e.g. "Produce") or by number.</summary>
    public static short Parse(string text)
    {
        if (ByName.TryGetValue(text, out var key))
            return key;
        if (short.TryParse(text, out key) && key >= 0)
            return key;
        throw new FormatException($"Unknown Kafka API key '{text}'; use a number or one of {string.Join(", ", ByName.Keys.Order())}.");
    }
}
