using System.Data.Common;
using AkkaCollector.Spooling;
using AkkaCollector.Testing.Postgres;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AkkaCollector.IntegrationTests.Spooling;

/// <summary>A journal database a <see cref="SpoolSpec"/> runs against: the spool settings that select it and a look into its table.</summary>
public sealed class SpoolJournal : IDisposable
{
    private readonly Func<DbConnection> _connect;
    private readonly Action _cleanup;

    private SpoolJournal(SpoolOptions settings, Func<DbConnection> connect, Action cleanup)
    {
        Settings = settings;
        _connect = connect;
        _cleanup = cleanup;
    }

    /// <summary>Spool settings (one partition) selecting this journal, as the collector reads them.</summary>
    public SpoolOptions Settings { get; }

    /// <summary>The same settings as command-line arguments of the collector binary.</summary>
    public IReadOnlyList<string> CollectorArguments =>
        [$"--Spool:Provider={Settings.Provider}", $"--Spool:ConnectionString={Settings.ConnectionString}", $"--Spool:Partitions={Settings.Partitions}"];

    /// <summary>A fresh SQLite journal file in its own temporary folder, deleted on dispose.</summary>
    public static SpoolJournal Sqlite()
    {
        var folder = Directory.CreateTempSubdirectory("akkacollector-spool-").FullName;
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "spool.db"), Pooling = false }.ToString();
        return new SpoolJournal(SettingsFor("sqlite", connectionString), () => new SqliteConnection(connectionString), () => Directory.Delete(folder, recursive: true));
    }

    /// <summary>A fresh database on <paramref name="server"/>; it goes when the server does.</summary>
    public static SpoolJournal Postgres(PostgresServer server)
    {
        var connectionString = server.CreateDatabaseAsync($"spool_{Guid.NewGuid():N}").GetAwaiter().GetResult();
        return new SpoolJournal(SettingsFor("postgresql", connectionString), () => new NpgsqlConnection(connectionString), () => { });
    }

    /// <summary>Rows of <paramref name="persistenceId"/> in the journal table (Akka.Persistence.Sql's default mapping: table "journal").</summary>
    public async Task<long> CountRowsAsync(string persistenceId)
    {
        await using var connection = _connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = @id";
        var id = command.CreateParameter();
        id.ParameterName = "@id";
        id.Value = persistenceId;
        command.Parameters.Add(id);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => _cleanup();

    private static SpoolOptions SettingsFor(string provider, string connectionString) =>
        new() { Provider = provider, ConnectionString = connectionString, Partitions = 1 };
}
