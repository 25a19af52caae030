using AkkaCollector.Rig.Verification;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>Compares what producers were told (the ack ledger) with what reached Kafka (the topic audit), and reports the figures.</summary>
internal sealed class DeliveryCheck(ITestOutputHelper output, Ledger ledger, TopicAudit audit)
{
    private const int Listed = 20;

    /// <summary>Waits until every acked messageId is in the topic; returns those still missing after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<string>> MissingAfterAsync(TimeSpan timeout)
    {
        var missing = ledger.Acked.ToList();
        // The list only shrinks, so each poll looks only at what is still outstanding.
        await audit.WaitUntilAsync(a =>
        {
            missing.RemoveAll(a.Contains);
            return missing.Count == 0;
        }, timeout);
        return missing;
    }

    /// <summary>Acked messageIds that reached the topic more than once (at least once delivery allows them; the report counts them).</summary>
    public IReadOnlyList<(string MessageId, int Times)> DuplicatedAcks() =>
        ledger.Acked.Select(id => (id, audit.TimesSeen(id))).Where(seen => seen.Item2 > 1).ToList();

    /// <summary>Writes the figures of a run to the test output, duplicates listed, and returns the lost ones for the assertion.</summary>
    public async Task<IReadOnlyList<string>> ReportAsync(string story, TimeSpan deliveryTimeout, CollectorProcess collector, TimeSpan elapsed)
    {
        var missing = await MissingAfterAsync(deliveryTimeout);
        var duplicated = DuplicatedAcks();
        output.WriteLine($"{story}: {ledger}");
        output.WriteLine($"  topic audit: {audit}");
        output.WriteLine($"  collector started {collector.Starts} time(s); {elapsed.TotalSeconds:F1} s");
        output.WriteLine($"  lost acked events: {missing.Count}; duplicated acked events: {duplicated.Count} (extra records {duplicated.Sum(d => d.Times - 1)})");
        // Each extra copy with where both copies landed, and below what the collector said: whether it handed a batch
        // over again or a retry's records were written twice.
        foreach (var copy in audit.ExtraCopies.Take(Listed))
            output.WriteLine($"    duplicate {copy}");
        if (audit.Duplicates > Listed)
            output.WriteLine($"    ... and {audit.Duplicates - Listed} more");
        foreach (var messageId in missing.Take(Listed))
            output.WriteLine($"    LOST {messageId}");
        if (missing.Count > 0 || duplicated.Count > 0)
            output.WriteLine($"collector output (tail):\n{Tail(collector.Output, 80)}");
        return missing;
    }

    /// <summary>Rows in the SQLite journal, read through a read-only connection beside the running collector.</summary>
    public static long JournalRows(CollectorProcess collector)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = collector.JournalFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        using var connection = new SqliteConnection(connectionString.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal";
        return (long)command.ExecuteScalar()!;
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));
}
