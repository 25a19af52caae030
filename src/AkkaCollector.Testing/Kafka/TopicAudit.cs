using System.Text;
using Confluent.Kafka;

namespace AkkaCollector.Testing.Kafka;

/// <summary>
/// A copy of a record beyond the first (<see cref="Copy"/> 2 for the second): where the first copy is and which spool
/// sent it, and the same for this one (a spool is the record's <c>spool</c> header, null without one).
/// </summary>
public sealed record ExtraCopy(string MessageId, int FirstPartition, long FirstOffset, string? FirstSpool, int Copy, int Partition, long Offset, string? Spool)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{MessageId}: first at partition {FirstPartition} offset {FirstOffset} from {FirstSpool ?? "no spool"}, copy {Copy} at partition {Partition} offset {Offset} from {Spool ?? "no spool"}";
}

/// <summary>Where an extra copy in the topic came from, as far as the topic itself can tell.</summary>
public enum CopyOrigin
{
    /// <summary>Part of a run of records the mock cluster appended twice (<see cref="TopicAudit.ExtraCopiesBesidesRunsWrittenTwice"/>).</summary>
    WrittenTwiceByTheMock,
    /// <summary>The spool that sent the first copy sent it again.</summary>
    SentAgainByOneSpool,
    /// <summary>Two spools each stored the event (a load balancer's replay or a producer's retry that reached another collector) and each delivered it.</summary>
    StoredByTwoSpools,
}

/// <summary>One record as the audit read it: its <c>messageId</c> (null without one), its headers (the last value of each, UTF-8) and its value.</summary>
public sealed record AuditedRecord(string? MessageId, IReadOnlyDictionary<string, string> Headers, byte[] Value);

/// <summary>Reads a topic from its earliest offset in the background and counts, per <c>messageId</c> header, how often each record arrived.</summary>
/// <remarks>
/// It must run while producers write: the mock cluster keeps only the newest 5 MiB per partition and
/// deletes older records silently, so an audit started afterwards can miss records that were delivered.
/// Partitions are assigned directly (no group rebalance), so reading starts at once.
/// </remarks>
public sealed class TopicAudit : IAsyncDisposable
{
    /// <summary>Header carrying the record's identity, UTF-8.</summary>
    public const string MessageIdHeader = "messageId";

    /// <summary>Header naming the spool (the collector's journal) that delivered the record, UTF-8.</summary>
    public const string SpoolHeader = "spool";

    private readonly object _gate = new();
    /// <summary>Per message id: how many copies, and where the first one is (to say where a second copy landed beside it).</summary>
    private readonly Dictionary<string, Seen> _seen = new(StringComparer.Ordinal);
    private readonly List<ExtraCopy> _extraCopies = [];
    /// <summary>One string per spool name, so that remembering each id's spool costs a reference.</summary>
    private readonly Dictionary<string, string> _spools = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private readonly Action<AuditedRecord>? _inspect;
    private readonly string _bootstrapServers;
    private readonly int _partitions;
    private long _records;
    private long _withoutId;
    private int _duplicates;
    private Exception? _failure;
    private string? _lastError;

    private TopicAudit(string bootstrapServers, string topic, int partitions, Action<AuditedRecord>? inspect)
    {
        Topic = topic;
        _inspect = inspect;
        _bootstrapServers = bootstrapServers;
        _partitions = partitions;
        var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"topic-audit-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 50,
        })
            // Broker outages are what the audit watches through; keep their noise as the latest error only.
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, error) => Volatile.Write(ref _lastError, error.Reason))
            .Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        _reading = Task.Factory.StartNew(() => Read(consumer), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The topic being read.</summary>
    public string Topic { get; }

    /// <summary>Distinct message ids seen.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _seen.Count;
        }
    }

    /// <summary>Records seen again after their first arrival (a record seen three times counts two).</summary>
    public int Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>All records read, duplicates and records without a message id included.</summary>
    public long Records => Interlocked.Read(ref _records);

    /// <summary>Records that carried no <c>messageId</c> header.</summary>
    public long WithoutId => Interlocked.Read(ref _withoutId);

    /// <summary>
    /// Starts reading every partition of <paramref name="topic"/> from the beginning; <paramref name="inspect"/>, when
    /// given, sees every record (on the audit's reading thread) so a test can check what the records carry.
    /// </summary>
    public static TopicAudit Start(string bootstrapServers, string topic, TimeSpan? metadataTimeout = null, Action<AuditedRecord>? inspect = null)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, metadataTimeout ?? TimeSpan.FromSeconds(15)).Topics.Single();
        if (metadata.Error.IsError || metadata.Partitions.Count == 0)
            throw new InvalidOperationException($"Cannot audit topic '{topic}': {metadata.Error.Reason}");
        return new TopicAudit(bootstrapServers, topic, metadata.Partitions.Count, inspect);
    }

    /// <summary>Whether a record with this message id has been seen.</summary>
    public bool Contains(string messageId)
    {
        lock (_gate)
            return _seen.ContainsKey(messageId);
    }

    /// <summary>How many times a record with this message id has been seen.</summary>
    public int TimesSeen(string messageId)
    {
        lock (_gate)
            return _seen.GetValueOrDefault(messageId).Times;
    }

    /// <summary>The first <see cref="ExtraCopiesKept"/> extra copies, in the order they were read, each with where its first copy is.</summary>
    public IReadOnlyList<ExtraCopy> ExtraCopies
    {
        get
        {
            lock (_gate)
                return _extraCopies.ToList();
        }
    }

    /// <summary>More than any run expects; a bound only so that a runaway producer cannot fill the heap.</summary>
    public const int ExtraCopiesKept = 10_000;

    /// <summary>
    /// The extra copies that are not a partition's run of records written again right after itself (all of a
    /// partition's copies when one is not). Such a run is what the mock cluster makes of Produce requests it appended
    /// but could not answer because their broker went down: librdkafka sends them again once it is back, with the same
    /// sequence numbers, and the mock, which checks sequences only for transactional producers, appends them again
    /// (MockClusterTests). A real broker would acknowledge the retry without writing it twice.
    /// </summary>
    public IReadOnlyList<ExtraCopy> ExtraCopiesBesidesRunsWrittenTwice()
    {
        List<ExtraCopy> copies;
        lock (_gate)
        {
            copies = _extraCopies.ToList();
            // Not all kept: what was not kept cannot be told apart.
            if (copies.Count < _duplicates)
                return copies;
        }
        return copies.GroupBy(copy => copy.Partition).Where(partition => !IsRunWrittenTwice(partition.OrderBy(copy => copy.FirstOffset).ToList()))
            .SelectMany(partition => partition).ToList();
    }

    /// <summary>How many extra copies came from each <see cref="CopyOrigin"/>; empty when more copies were made than kept (then they cannot be told apart).</summary>
    public IReadOnlyDictionary<CopyOrigin, int> ExtraCopiesByOrigin()
    {
        List<ExtraCopy> copies;
        lock (_gate)
        {
            copies = _extraCopies.ToList();
            if (copies.Count < _duplicates)
                return new Dictionary<CopyOrigin, int>();
        }
        var besidesRuns = ExtraCopiesBesidesRunsWrittenTwice().ToHashSet();
        return copies.GroupBy(copy => !besidesRuns.Contains(copy) ? CopyOrigin.WrittenTwiceByTheMock
                : copy.Spool == copy.FirstSpool ? CopyOrigin.SentAgainByOneSpool
                : CopyOrigin.StoredByTwoSpools)
            .ToDictionary(origin => origin.Key, origin => origin.Count());
    }

    /// <summary>First copies at offsets f .. f+n-1 of one partition, and their second copies at f+n .. f+2n-1, in the same order.</summary>
    private static bool IsRunWrittenTwice(List<ExtraCopy> copies) =>
        copies.Select((copy, i) => copy.Copy == 2 && copy.FirstPartition == copy.Partition && copy.FirstOffset == copies[0].FirstOffset + i &&
                                   copy.Offset == copy.FirstOffset + copies.Count)
            .All(holds => holds);

    /// <summary>Polls until <paramref name="condition"/> holds; false if it still does not after <paramref name="timeout"/>.</summary>
    /// <exception cref="InvalidOperationException">The consumer failed.</exception>
    public async Task<bool> WaitUntilAsync(Func<TopicAudit, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Volatile.Read(ref _failure) is { } failure)
                throw new InvalidOperationException($"Auditing '{Topic}' failed.", failure);
            if (condition(this))
                return true;
            if (DateTime.UtcNow >= deadline)
                return false;
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>
    /// Waits until the audit has read every record the topic holds now (the sum of its partitions' ends): then
    /// <see cref="Duplicates"/> counts every copy written so far. False if it has not after <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> WaitUntilReadToEndAsync(TimeSpan timeout)
    {
        long end;
        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _bootstrapServers, GroupId = $"topic-audit-end-{Guid.NewGuid():N}" })
                   .SetLogHandler((_, _) => { })
                   .Build())
        {
            end = Enumerable.Range(0, _partitions).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(Topic, p), TimeSpan.FromSeconds(10)).High.Value);
        }
        return await WaitUntilAsync(audit => audit.Records >= end, timeout);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Topic}: {Count} ids, {Duplicates} duplicates, {Records} records ({WithoutId} without id); last client error: {Volatile.Read(ref _lastError) ?? "none"}";

    /// <summary>Stops reading and closes the consumer.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }

    private void Read(IConsumer<Ignore, byte[]> consumer)
    {
        using var _ = consumer;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message: not null } consumed)
                        Record(consumed);
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    Volatile.Write(ref _lastError, e.Error.Reason);
                }
            }
        }
        catch (KafkaException e)
        {
            Volatile.Write(ref _failure, e);
        }
        finally
        {
            consumer.Close();
        }
    }

    private void Record(ConsumeResult<Ignore, byte[]> consumed)
    {
        var message = consumed.Message;
        Interlocked.Increment(ref _records);
        var headers = message.Headers;
        var id = headers is not null && headers.TryGetLastBytes(MessageIdHeader, out var idBytes) ? Encoding.UTF8.GetString(idBytes) : null;
        if (_inspect is { } inspect)
        {
            var all = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var header in headers ?? [])
                all[header.Key] = Encoding.UTF8.GetString(header.GetValueBytes());
            inspect(new AuditedRecord(id, all, message.Value ?? []));
        }
        if (id is null)
        {
            Interlocked.Increment(ref _withoutId);
            return;
        }

        var spoolName = headers!.TryGetLastBytes(SpoolHeader, out var spoolBytes) ? Encoding.UTF8.GetString(spoolBytes) : null;
        lock (_gate)
        {
            var (partition, offset) = (consumed.Partition.Value, consumed.Offset.Value);
            var spool = spoolName is null ? null : _spools.TryGetValue(spoolName, out var known) ? known : _spools[spoolName] = spoolName;
            var seen = _seen.TryGetValue(id, out var before) ? before with { Times = before.Times + 1 } : new Seen(1, partition, offset, spool);
            _seen[id] = seen;
            if (seen.Times == 1)
                return;
            Interlocked.Increment(ref _duplicates);
            if (_extraCopies.Count < ExtraCopiesKept)
                _extraCopies.Add(new ExtraCopy(id, seen.Partition, seen.Offset, seen.Spool, seen.Times, partition, offset, spool));
        }
    }

    private readonly record struct Seen(int Times, int Partition, long Offset, string? Spool);
}
