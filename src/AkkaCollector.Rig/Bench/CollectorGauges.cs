using AkkaCollector.Rig.Metrics;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// Where the benchmark reads the truth about delivery: the collector's /metrics, Kafka's high watermarks (records the
/// topic holds, whoever wrote them) and the journal table itself (rows left after truncation).
/// </summary>
/// <param name="postgresConnectionString">The journal's database when the collector spools to PostgreSQL; null reads <paramref name="journalFile"/> (SQLite).</param>
public sealed class CollectorGauges(Uri collector, string bootstrapServers, string topic, string journalFile, string? postgresConnectionString = null) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly IConsumer<Ignore, Ignore> _consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
    {
        BootstrapServers = bootstrapServers,
        GroupId = "bench-watermarks",
    }).SetLogHandler((_, _) => { }).Build();
    private List<TopicPartition>? _partitions;

    public async Task<CollectorCounters> ScrapeAsync(CancellationToken cancellationToken) =>
        CollectorCounters.Parse(await _http.GetStringAsync(new Uri(collector, "/metrics"), cancellationToken));

    /// <summary>The lookup and breaker samples of one scrape (calls, defaults used, breaker states).</summary>
    public async Task<IReadOnlyList<PrometheusSample>> LookupSamplesAsync(CancellationToken cancellationToken) =>
        PrometheusText.Parse(await _http.GetStringAsync(new Uri(collector, "/metrics"), cancellationToken), "collector_")
            .Where(s => s.Name.StartsWith("collector_lookup_", StringComparison.Ordinal) || s.Name.StartsWith("collector_breaker_", StringComparison.Ordinal))
            .ToList();

    /// <summary>Records in the topic: the sum of the high watermarks of its partitions.</summary>
    public long KafkaRecords()
    {
        _partitions ??= LoadPartitions();
        return _partitions.Sum(p => _consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
    }

    /// <summary>
    /// Of the last <paramref name="perPartition"/> records of every partition, how many there were and how many carry a
    /// <c>context.location</c> (the collector writes one only when geo-coding found the address).
    /// </summary>
    public (int Sampled, int Located) SampleLocated(int perPartition)
    {
        _partitions ??= LoadPartitions();
        using var reader = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "bench-geo-sample",
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        var wanted = new Dictionary<int, long>();
        var starts = new List<TopicPartitionOffset>();
        foreach (var partition in _partitions)
        {
            var high = _consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High.Value;
            var start = Math.Max(0, high - perPartition);
            if (high <= start)
                continue;
            wanted[partition.Partition.Value] = high;
            starts.Add(new TopicPartitionOffset(partition, start));
        }
        reader.Assign(starts);
        int sampled = 0, located = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (wanted.Count > 0 && DateTime.UtcNow < deadline)
        {
            var record = reader.Consume(TimeSpan.FromMilliseconds(500));
            if (record?.Message is null)
                continue;
            sampled++;
            if (record.Message.Value.AsSpan().IndexOf("\"location\":{"u8) >= 0)
                located++;
            if (record.Offset.Value + 1 >= wanted.GetValueOrDefault(record.Partition.Value))
                wanted.Remove(record.Partition.Value);
        }
        return (sampled, located);
    }

    /// <summary>Rows in the journal table (each one journal write not yet truncated).</summary>
    public long JournalRows()
    {
        using System.Data.Common.DbConnection connection = postgresConnectionString is null
            ? new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journalFile, Mode = SqliteOpenMode.ReadOnly }.ToString())
            : new Npgsql.NpgsqlConnection(postgresConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Polls until the spool's backlog is 0 (true) or <paramref name="timeout"/> passes (false).</summary>
    public async Task<bool> WaitForEmptySpoolAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var counters = await ScrapeAsync(cancellationToken);
            if (counters.Backlog == 0 && counters.Delivered >= counters.Persisted)
                return true;
            await Task.Delay(100, cancellationToken);
        }
        return false;
    }

    public void Dispose()
    {
        _consumer.Dispose();
        _http.Dispose();
    }

    private List<TopicPartition> LoadPartitions()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(15)).Topics.Single();
        return metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
    }
}
