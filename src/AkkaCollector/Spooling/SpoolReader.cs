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
public sealed class SqlSpoolReader(ActorSystem system) : ISpoolReader
{
    private readonly SqlReadJournal _journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
    private readonly IMaterializer _materializer = system.Materializer();

    public async Task<IReadOnlyList<(long SequenceNr, SpoolBatch Batch)>> ReadAsync(string persistenceId, long fromSequenceNr, long toSequenceNr)
    {
        var envelopes = await _journal.CurrentEventsByPersistenceId(persistenceId, fromSequenceNr, toSequenceNr)
            .RunWith(Sink.Seq<EventEnvelope>(), _materializer);
        return envelopes.Select(e => (e.SequenceNr, (SpoolBatch)e.Event)).ToList();
    }

    /// <summary>The partition numbers of every spool the journal holds rows for.</summary>
    public async Task<IReadOnlyList<int>> PartitionsInJournalAsync()
    {
        var ids = await _journal.CurrentPersistenceIds().RunWith(Sink.Seq<string>(), _materializer);
        return ids.Select(id => SpoolerActor.PartitionOf(id)).OfType<int>().ToList();
    }
}
