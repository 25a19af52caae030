using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace AkkaCollector.Spooling;

/// <summary>Reads journaled batches back by sequence number: how spilled batches return to memory when Kafka can take them.</summary>
public interface ISpoolReader
{
    Task<IReadOnlyList<(long SequenceNr, SpoolBatch Batch)>> ReadAsync(string persistenceId, long fromSequenceNr, long toSequenceNr);
}

/// <summary>Reads the Akka.Persistence.Sql journal through its query side.</summary>
/// <remarks>
/// The query side's constructor blocks its caller until the write journal says it is initialized, with a fixed 5 s
/// timeout, and throws past it. On a busy machine the journal's start (creating its table, opening SQLite) took
/// longer, and the collector failed to start (seen in a CI run beside other builds). So the query side is created off
/// the start-up path, tried again while the journal is still starting, and reads wait for it.
/// </remarks>
public sealed class SqlSpoolReader : ISpoolReader
{
    private static readonly TimeSpan JournalStartBound = TimeSpan.FromMinutes(2);
    private readonly Task<SqlReadJournal> _journal;
    private readonly IMaterializer _materializer;

    public SqlSpoolReader(ActorSystem system)
    {
        _materializer = system.Materializer();
        _journal = OpenAsync(system);
    }

    private static Task<SqlReadJournal> OpenAsync(ActorSystem system) => Task.Run(() =>
    {
        var deadline = DateTime.UtcNow + JournalStartBound;
        while (true)
        {
            try
            {
                return PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            }
            catch (AggregateException starting) when (starting.InnerException is AskTimeoutException && DateTime.UtcNow < deadline)
            {
                // The write journal is still starting; nothing was registered, so the next attempt starts afresh.
            }
        }
    });

    public async Task<IReadOnlyList<(long SequenceNr, SpoolBatch Batch)>> ReadAsync(string persistenceId, long fromSequenceNr, long toSequenceNr)
    {
        var journal = await _journal.ConfigureAwait(false);
        var envelopes = await journal.CurrentEventsByPersistenceId(persistenceId, fromSequenceNr, toSequenceNr)
            .RunWith(Sink.Seq<EventEnvelope>(), _materializer);
        return envelopes.Select(e => (e.SequenceNr, (SpoolBatch)e.Event)).ToList();
    }

    /// <summary>Every spool the journal holds rows for.</summary>
    public async Task<IReadOnlyList<SpoolId>> SpoolsInJournalAsync()
    {
        var journal = await _journal.ConfigureAwait(false);
        var ids = await journal.CurrentPersistenceIds().RunWith(Sink.Seq<string>(), _materializer);
        return ids.Select(SpoolId.Parse).OfType<SpoolId>().ToList();
    }
}
