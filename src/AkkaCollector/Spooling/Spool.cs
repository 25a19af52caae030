using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Spooling;

/// <summary>
/// The spool as a whole: starts one <see cref="SpoolPartition"/> per configured partition when the actor system
/// starts, and is the <see cref="IEventSpool"/> the HTTP side talks to.
/// </summary>
public sealed class Spool(IOptions<SpoolOptions> options, SpoolStatus status, IEventPublisher publisher, ILogger<Spool> logger) : IEventSpool
{
    private ActorEventSpool? _router;

    /// <summary>Spooler parents by partition, once started.</summary>
    public IReadOnlyList<IActorRef> Partitions { get; private set; } = [];

    /// <summary>Starts the spoolers; each recovers its undelivered batches from the journal and delivers them.</summary>
    public void Start(ActorSystem system)
    {
        var reader = new SqlSpoolReader(system);
        CollectorMetrics.SpoolMaxBytes.Set(options.Value.MaxBytes);
        Partitions = Enumerable.Range(0, options.Value.Partitions).Select(p => StartPartition(system, p, reader)).ToList();
        _router = new ActorEventSpool(Partitions, options.Value.WriteTimeout);
        _ = DrainOrphanedPartitionsAsync(system, reader);
    }

    private IActorRef StartPartition(ActorSystem system, int partition, ISpoolReader reader) =>
        system.ActorOf(SpoolPartition.Props(SpoolerActor.Props(partition, options.Value, status, publisher, reader)), $"spool-{partition}");

    /// <summary>
    /// Spool:Partitions may have been lowered since the journal was written: spools numbered at or above it still
    /// hold acknowledged events. They get a spooler too, which takes no new events but delivers what they hold.
    /// </summary>
    private async Task DrainOrphanedPartitionsAsync(ActorSystem system, SqlSpoolReader reader)
    {
        try
        {
            foreach (var partition in await reader.PartitionsInJournalAsync())
            {
                if (partition < options.Value.Partitions)
                    continue;
                logger.LogWarning("The journal holds spool-{Partition} but Spool:Partitions is {Partitions}: delivering what it holds", partition, options.Value.Partitions);
                StartPartition(system, partition, reader);
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not list the spools in the journal; spools beyond Spool:Partitions (if any) are not delivered until the next start");
        }
    }

    /// <summary>Asks every spooler to truncate what Kafka has confirmed, waiting at most <paramref name="budget"/>.</summary>
    public async Task<Done> TruncateDeliveredAsync(TimeSpan budget)
    {
        try
        {
            await Task.WhenAll(Partitions.Select(p => p.Ask<Truncated>(TruncateNow.Instance, budget)));
        }
        catch (AskTimeoutException)
        {
            logger.LogWarning("Shutdown: the journal was not truncated within {Budget}; the next start sends the last delivered events again (at least once)", budget);
        }
        return Done.Instance;
    }

    public Task<SpoolOutcome> SpoolAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken) =>
        (_router ?? throw new InvalidOperationException("The spool has not started")).SpoolAsync(events, cancellationToken);

    /// <summary>
    /// The journal's connection settings as HOCON, from Spool:Provider / Spool:ConnectionString / Spool:Path /
    /// Spool:AutoInitialize. Both databases use Akka.Persistence.Sql's default table mapping (table "journal"),
    /// so the write side and the query side that reads spilled batches back agree on one schema.
    /// </summary>
    public static Config JournalConfig(SpoolOptions options)
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
        return ConfigurationFactory.ParseString($$"""
            akka.persistence.journal.sql.connection-string = {{quoted}}
            akka.persistence.journal.sql.provider-name = "{{provider}}"
            akka.persistence.journal.sql.auto-initialize = {{autoInitialize}}
            akka.persistence.query.journal.sql.connection-string = {{quoted}}
            akka.persistence.query.journal.sql.provider-name = "{{provider}}"
            """);
    }

    /// <summary>linq2db options for the journal and its query side: on SQLite, the per-connection tuning.</summary>
    public static MultiDataOptionsSetup JournalDataOptions(SpoolOptions options)
    {
        var setup = new MultiDataOptionsSetup();
        if (options.Provider != "sqlite")
            return setup;
        var dataOptions = new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, options.ConnectionString ?? SqliteConnectionString(options.Path))
            .UseInterceptor(new SqliteJournalTuning(options.SqliteSyncEveryCommit));
        setup.AddDataOptions("akka.persistence.journal.sql", dataOptions);
        setup.AddDataOptions("akka.persistence.query.journal.sql", dataOptions);
        return setup;
    }

    private static string SqliteConnectionString(string folder)
    {
        Directory.CreateDirectory(folder);
        return new SqliteConnectionStringBuilder { DataSource = System.IO.Path.Combine(Path.GetFullPath(folder), "spool.db") }.ToString();
    }

    /// <summary>
    /// WAL lets readers (recovery, spilled-batch reads) run beside the writer, and a commit costs one append to
    /// the log. It is a property of the database file, so setting it once before the journal opens is enough.
    /// </summary>
    private static void PrepareSqlite(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
