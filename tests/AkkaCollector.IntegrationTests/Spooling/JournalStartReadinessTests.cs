using System.Net;
using AkkaCollector.IntegrationTests.EndToEnd;
using AkkaCollector.Testing.Postgres;
using AkkaCollector.Testing.Processes;
using Npgsql;

namespace AkkaCollector.IntegrationTests.Spooling;

/// <summary>
/// A collector listens before its journal can store. On PostgreSQL the journal's start can be long while the server
/// answers (a loaded server, a long replay): readiness must keep the load balancer away until every spooler has
/// recovered. Before, /health/ready answered 200 at once, and a first event sent on that word was answered 503 after
/// Spool:WriteTimeout (CI, once).
/// </summary>
public sealed class JournalStartReadinessTests
{
    private const string Database = "readiness";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_answer_starting_until_every_spooler_has_recovered_its_postgresql_journal_and_not_wait_for_kafka()
    {
        await using var server = await PostgresServer.StartAsync();
        var connectionString = await server.CreateDatabaseAsync(Database);
        // A first start creates the journal's tables, so the second can be held on one of them.
        await StartUntilReadyAndStopAsync(connectionString);

        // The journal's start is held where a slow one waits: on its table. The spools' claims (advisory locks) are not.
        await using var holder = new NpgsqlConnection(server.ConnectionString(Database));
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE journal IN ACCESS EXCLUSIVE MODE", holder, hold))
            await lockTable.ExecuteNonQueryAsync();
        using var collector = StartCollector(connectionString);
        try
        {
            using var http = new HttpClient { BaseAddress = await collector.WaitForListeningUrlAsync(Patience), Timeout = Patience };
            await WaitUntilTheJournalWaitsForTheTableAsync(server);

            Assert.Equal("starting", await Readiness.WaitForAsync(http, HttpStatusCode.ServiceUnavailable, TimeSpan.Zero));

            await hold.RollbackAsync();
            Assert.Equal("ready", await Readiness.WaitForAsync(http, HttpStatusCode.OK, Patience));
            // Ready means stored: the first event after it is answered 200, with no retry.
            using var answer = await Tracking.PostAsync(http, "wk");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        finally
        {
            collector.SendSignal(Signals.SIGTERM);
            await collector.WaitForExitAsync(Patience);
        }
    }

    /// <summary>Kafka is a closed port throughout: readiness waits for the journal only, never for Kafka.</summary>
    private static ChildProcess StartCollector(string connectionString) =>
        ChildProcess.StartDotnet(CollectorBinary.Path,
            ["--urls", "http://127.0.0.1:0", "--Kafka:BootstrapServers=127.0.0.1:1", "--Spool:Provider=postgresql",
             $"--Spool:ConnectionString={connectionString}", "--Spool:Partitions=2"]);

    private static async Task StartUntilReadyAndStopAsync(string connectionString)
    {
        using var first = StartCollector(connectionString);
        try
        {
            using var http = new HttpClient { BaseAddress = await first.WaitForListeningUrlAsync(Patience) };
            await Readiness.WaitForAsync(http, HttpStatusCode.OK, Patience);
        }
        finally
        {
            first.SendSignal(Signals.SIGTERM);
            await first.WaitForExitAsync(Patience);
        }
    }

    private static async Task WaitUntilTheJournalWaitsForTheTableAsync(PostgresServer server)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await server.QueryScalarAsync<long>(Database,
                   "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'journal'::regclass") == 0)
        {
            Assert.True(clock.Elapsed < Patience, "the collector's journal never asked for its table");
            await Task.Delay(50);
        }
    }
}
