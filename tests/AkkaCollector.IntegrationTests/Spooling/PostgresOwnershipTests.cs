using AkkaCollector.Spooling;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AkkaCollector.IntegrationTests.Spooling;

/// <summary>
/// Spool ownership on a real PostgreSQL: two collectors' lock sessions in one process, each a
/// <see cref="PostgresOwnership"/> of its own, as two collectors sharing one spool database have.
/// </summary>
public sealed class PostgresOwnershipTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    private static readonly TimeSpan TakeoverAfter = TimeSpan.FromSeconds(4);
    private static readonly SpoolId Spool = new("a", 0);

    /// <summary>A fresh database and the lock sessions of collectors "a" and "b" on it.</summary>
    private async Task<TwoCollectors> TwoCollectorsAsync(string name)
    {
        var database = await postgres.Instance.CreateDatabaseAsync(name);
        return new TwoCollectors(database, Collector("a"), Collector("b"));

        PostgresOwnership Collector(string instance) =>
            new(new SpoolOptions { Provider = "postgresql", ConnectionString = database, TakeoverAfter = TakeoverAfter, InstanceId = instance },
                NullLogger.Instance);
    }

    [Fact]
    public async Task Should_give_a_spool_to_one_collector_at_a_time_and_to_the_other_once_it_lets_go()
    {
        using var collectors = await TwoCollectorsAsync("ownership_exclusive");
        var (a, b) = (collectors.A, collectors.B);

        Assert.True(await a.TryTakeAsync(Spool));
        Assert.False(await b.TryTakeAsync(Spool));
        Assert.False(await a.TryTakeAsync(Spool));
        await a.ReleaseAsync(Spool);

        Assert.True(await b.TryTakeAsync(Spool));
        Assert.False(await a.TryTakeAsync(Spool));
    }

    [Fact]
    public async Task Should_claim_its_spools_again_on_a_new_session_when_the_server_ends_its_session()
    {
        using var collectors = await TwoCollectorsAsync("ownership_session_ended");
        var (database, a, b) = (collectors.Database, collectors.A, collectors.B);
        Assert.True(await a.TryTakeAsync(Spool));
        var ended = await SessionOfAsync(database, "a");

        // As a database restart or a failover does (for every session at once): the server ends a's lock session.
        await TerminateSessionAsync(database, ended);
        Assert.True(await WaitUntilAsync(async () => await SessionOfAsync(database, "a") is { } session && session != ended, TakeoverAfter * 2),
            "a opened no new lock session");

        Assert.True(await WaitUntilAsync(() => Task.FromResult(a.Holds), TakeoverAfter));
        Assert.False(await b.TryTakeAsync(Spool));
        Assert.False(await a.TryTakeAsync(Spool));
    }

    /// <summary>The server process id of a collector's lock session, or null when it has none.</summary>
    private static async Task<int?> SessionOfAsync(string connectionString, string instance)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE application_name = @name", connection);
        command.Parameters.AddWithValue("name", $"akkacollector-spool-locks {instance}");
        return await command.ExecuteScalarAsync() as int?;
    }

    private static async Task TerminateSessionAsync(string connectionString, int? session)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", connection);
        command.Parameters.AddWithValue("pid", session ?? throw new InvalidOperationException("no lock session to end"));
        Assert.Equal(true, await command.ExecuteScalarAsync());
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(50);
        }
        return true;
    }

    private sealed record TwoCollectors(string Database, PostgresOwnership A, PostgresOwnership B) : IDisposable
    {
        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
        }
    }
}
