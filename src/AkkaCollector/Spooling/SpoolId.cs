using System.Globalization;

namespace AkkaCollector.Spooling;

/// <summary>
/// Which spool a journal's rows belong to: the collector instance that wrote them (Collector:InstanceId) and its
/// partition. Its persistence id is <c>spool-INSTANCE-N</c>, so collectors sharing one database never mix journals.
/// A spool written before instance ids existed is <c>spool-N</c>: <see cref="Instance"/> is empty, and whoever finds it
/// drains it (a SQLite spool is read by the one collector that owns the file; a shared one is taken under its lock).
/// </summary>
public readonly record struct SpoolId(string Instance, int Partition)
{
    private const string Prefix = "spool-";

    /// <summary>The persistence id of the spool's journal (also the spool header on its Kafka records).</summary>
    public string PersistenceId => Instance.Length == 0
        ? Prefix + Partition.ToString(CultureInfo.InvariantCulture)
        : $"{Prefix}{Instance}-{Partition.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The spool a persistence id names, or null when it is not a spool's.</summary>
    public static SpoolId? Parse(string persistenceId)
    {
        if (!persistenceId.StartsWith(Prefix, StringComparison.Ordinal))
            return null;
        var rest = persistenceId.AsSpan(Prefix.Length);
        var dash = rest.LastIndexOf('-');
        var instance = dash < 0 ? "" : rest[..dash].ToString();
        if (!int.TryParse(rest[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var partition) || partition >= SpoolOptions.MaxPartitions)
            return null;
        if (dash >= 0 && !InstanceOptions.IsValidInstanceId(instance))
            return null;
        return new SpoolId(instance, partition);
    }

    public override string ToString() => PersistenceId;
}
