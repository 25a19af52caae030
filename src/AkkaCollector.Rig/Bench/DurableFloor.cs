using System.Text.Json;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// The least a collector that stores an event before it answers must do with it, with the collector's own libraries:
/// read the event's messageId (made when it has none) and key from its JSON, group-commit it to a SQLite journal in WAL
/// mode with a sync per commit, complete the request once the commit returns, then hand it to a producer configured
/// as the collector's. One writer takes every event waiting at once into one row per commit, as the collector's
/// spooler does.
/// Left out on purpose, so that it is a floor: no actor system, no spool partitions, no de-duplication, no metrics, no
/// compression of the row, no delivery reports awaited and no truncation (the journal only grows; the bench deletes it).
/// </summary>
public sealed class DurableFloor : IAsyncDisposable
{
    private readonly Channel<Pending> _waiting = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _journal;
    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private readonly Task _writer;

    private sealed record Pending(string Key, string MessageId, byte[] Event, TaskCompletionSource Stored);

    public DurableFloor(string journal, string bootstrapServers, string topic)
    {
        _topic = topic;
        _journal = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journal }.ToString());
        _journal.Open();
        using (var setUp = _journal.CreateCommand())
        {
            // The collector's defaults: WAL, and synchronous = FULL (Spool:SqliteSyncEveryCommit), so a commit survives power loss.
            setUp.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; " +
                                "CREATE TABLE IF NOT EXISTS journal (ordering INTEGER PRIMARY KEY AUTOINCREMENT, events BLOB NOT NULL);";
            setUp.ExecuteNonQuery();
        }
        _producer = ProducerCeiling.Build(bootstrapServers);
        _writer = Task.Factory.StartNew(WriteAsync, TaskCreationOptions.LongRunning).Unwrap();
    }

    /// <summary>Completes once the event is committed to the journal; its hand-over to Kafka follows the commit.</summary>
    public Task StoreAsync(ReadOnlyMemory<byte> body)
    {
        string key, messageId;
        using (var json = JsonDocument.Parse(body))
        {
            var root = json.RootElement;
            key = root.TryGetProperty("userId", out var user) ? user.GetString() ?? "" : root.GetProperty("anonymousId").GetString() ?? "";
            messageId = root.TryGetProperty("messageId", out var id) ? id.GetString() ?? "" : Guid.NewGuid().ToString();
        }
        var pending = new Pending(key, messageId, body.ToArray(), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_waiting.Writer.TryWrite(pending))
            throw new ObjectDisposedException(nameof(DurableFloor));
        return pending.Stored.Task;
    }

    private async Task WriteAsync()
    {
        using var insert = _journal.CreateCommand();
        insert.CommandText = "INSERT INTO journal (events) VALUES ($events)";
        var events = insert.Parameters.Add("$events", SqliteType.Blob);
        var commit = new List<Pending>();
        var row = new MemoryStream();
        while (await _waiting.Reader.WaitToReadAsync())
        {
            commit.Clear();
            row.SetLength(0);
            while (_waiting.Reader.TryRead(out var pending))
            {
                commit.Add(pending);
                row.Write(pending.Event);
            }
            using (var transaction = _journal.BeginTransaction())
            {
                insert.Transaction = transaction;
                events.Value = row.ToArray();
                insert.ExecuteNonQuery();
                transaction.Commit();
            }
            foreach (var pending in commit)
            {
                pending.Stored.SetResult();
                _producer.Produce(_topic, ProducerCeiling.Record(pending.Key, pending.Event, pending.MessageId));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _waiting.Writer.TryComplete();
        await _writer;
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
        await _journal.DisposeAsync();
    }
}
