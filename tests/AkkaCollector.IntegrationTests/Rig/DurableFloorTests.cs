using System.Collections.Concurrent;
using System.Text;
using AkkaCollector.Rig.Bench;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;
using Microsoft.Data.Sqlite;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>
/// The bench's durable floor is a floor only if it does the work it stands for: an event it answered is in its journal,
/// and every event reaches Kafka. A floor that skipped either would make every figure measured against it look worse.
/// </summary>
public sealed class DurableFloorTests : IDisposable
{
    private const string Topic = "events";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _folder = Directory.CreateTempSubdirectory("akkacollector-floor-").FullName;

    [Fact]
    public async Task Should_hold_every_answered_event_in_its_journal_and_hand_each_to_Kafka_once()
    {
        await using var mock = await KafkaMockProcess.StartAsync(brokers: 1, partitions: 4, Topic);
        var records = new ConcurrentDictionary<string, AuditedRecord>();
        await using var audit = TopicAudit.Start(mock.BootstrapServers, Topic, inspect: record => records[record.MessageId ?? ""] = record);
        var journal = Path.Combine(_folder, "floor.db");
        var events = Enumerable.Range(1, 30).Select(i => $$"""{"userId":"user-{{i}}","messageId":"floor-{{i}}","event":"Signed In"}""").ToList();

        await using (var floor = new DurableFloor(journal, mock.BootstrapServers, Topic))
        {
            await Task.WhenAll(events.Select(e => floor.StoreAsync(Encoding.UTF8.GetBytes(e))));

            // Answered, so committed: a second connection reads every event back while the floor still runs.
            var stored = await ReadJournalAsync(journal);
            Assert.All(events, e => Assert.Contains(e, stored, StringComparison.Ordinal));
        }

        Assert.True(await audit.WaitUntilAsync(a => a.Count == events.Count, Timeout), audit.ToString());
        Assert.Equal((0, events.Count), (audit.Duplicates, records.Count));
        Assert.All(Enumerable.Range(1, events.Count), i => Assert.Equal(events[i - 1], Encoding.UTF8.GetString(records[$"floor-{i}"].Value)));
    }

    private static async Task<string> ReadJournalAsync(string journal)
    {
        await using var reader = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journal, Mode = SqliteOpenMode.ReadOnly }.ToString());
        await reader.OpenAsync();
        await using var select = reader.CreateCommand();
        select.CommandText = "SELECT events FROM journal ORDER BY ordering";
        var text = new StringBuilder();
        await using var rows = await select.ExecuteReaderAsync();
        while (await rows.ReadAsync())
            text.Append(Encoding.UTF8.GetString((byte[])rows[0]));
        return text.ToString();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
