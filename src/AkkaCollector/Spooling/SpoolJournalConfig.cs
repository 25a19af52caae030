using Akka.Configuration;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Spooling;

/// <summary>The journal's configuration, built in this one place for the service and the tests that run a real journal.</summary>
public static class SpoolJournalConfig
{
    /// <summary>
    /// The whole journal configuration, in priority order: the connection from Spool:Provider / Spool:ConnectionString /
    /// Spool:Path / Spool:AutoInitialize, then hocon/spool.conf's tuning, then Akka.Persistence.Sql's defaults.
    /// </summary>
    public static Config For(SpoolOptions options) =>
        Connection(options).WithFallback(CollectorHocon.Load("spool.conf")).WithFallback(SqlPersistence.DefaultConfiguration);

    /// <summary>
    /// The journal's connection settings as HOCON. Both databases use Akka.Persistence.Sql's default table mapping
    /// (table "journal"), so the write side and the query side that reads spilled batches back agree on one schema.
    /// </summary>
    private static Config Connection(SpoolOptions options)
    {
        var (provider, connectionString) = options.Provider switch
        {
            // linq2db's newest PostgreSQL dialect; it speaks to every later server version as well.
            "postgresql" => ("PostgreSQL.15", options.ConnectionString
                ?? throw new OptionsValidationException(SpoolOptions.Section, typeof(SpoolOptions), [SpoolOptionsValidator.ConnectionStringRequired])),
            _ => ("SQLite.MS", options.ConnectionString ?? SqliteConnectionString(options.Path)),
        };
        if (options.Provider == "sqlite")
            PrepareSqlite(connectionString);

        var quoted = Quote(connectionString);
        var autoInitialize = options.AutoInitialize ? "on" : "off";
        // Concurrent journal transactions. SQLite has one writer: more than 1 only adds lock waits (hocon/spool.conf).
        // PostgreSQL waits on each transaction's round trips and commit, not on a lock: two transactions in flight
        // overlap those waits (single events 38-76 % of SQLite's rate with 1, 78-100 % with 2; docs/benchmark.md). The
        // journal answers each spooler's writes in the order it asked (Akka.Persistence's resequencer).
        var parallelism = options.Provider == "postgresql" ? 2 : 1;
        return ConfigurationFactory.ParseString($$"""
            akka.persistence.journal.sql.parallelism = {{parallelism}}
            akka.persistence.journal.sql.connection-string = {{quoted}}
            akka.persistence.journal.sql.provider-name = "{{provider}}"
            akka.persistence.journal.sql.auto-initialize = {{autoInitialize}}
            akka.persistence.query.journal.sql.connection-string = {{quoted}}
            akka.persistence.query.journal.sql.provider-name = "{{provider}}"
            """);
    }

    /// <summary>linq2db options for the journal and its query side: on SQLite, the per-connection tuning.</summary>
    public static MultiDataOptionsSetup DataOptions(SpoolOptions options)
    {
        var setup = new MultiDataOptionsSetup();
        if (options.Provider != "sqlite")
            return setup;
        var dataOptions = new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, options.ConnectionString ?? SqliteConnectionString(options.Path))
            // The plugin reads the provider's name; linq2db then uses this instance of it.
            .UseDataProvider(SqliteJournalProvider.Instance)
            .UseInterceptor(new SqliteJournalTuning(options.SqliteSyncEveryCommit));
        setup.AddDataOptions("akka.persistence.journal.sql", dataOptions);
        setup.AddDataOptions("akka.persistence.query.journal.sql", dataOptions);
        return setup;
    }

    /// <summary>The journal's file in Spool:Path.</summary>
    public const string SqliteFileName = "spool.db";

    private static string SqliteConnectionString(string folder)
    {
        Directory.CreateDirectory(folder);
        return new SqliteConnectionStringBuilder { DataSource = System.IO.Path.Combine(Path.GetFullPath(folder), SqliteFileName) }.ToString();
    }

    /// <summary>
    /// WAL lets readers (recovery, spilled-batch reads) run beside the writer, and a commit costs one append to
    /// the log. It is a property of the database file, so setting it once before the journal opens is enough.
    /// </summary>
    /// <remarks>
    /// The first place the journal's file is opened: a file that is not a SQLite database (or is damaged) fails here,
    /// named, instead of with SQLite's message alone ("file is not a database": which file?).
    /// </remarks>
    private static void PrepareSqlite(string connectionString)
    {
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            command.ExecuteNonQuery();
        }
        catch (SqliteException error)
        {
            throw new InvalidOperationException(
                $"The spool's journal '{new SqliteConnectionStringBuilder(connectionString).DataSource}' cannot be opened: {error.Message}", error);
        }
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
