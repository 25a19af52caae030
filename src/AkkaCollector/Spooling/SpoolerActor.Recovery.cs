// The spooler's recovery: replayed batches, and the read-back from Kafka of what they delivered already (invariant 8).

using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

public sealed partial class SpoolerActor
{
    private void HandleRecoveredBatch(SpoolBatch batch)
    {
        if (_firstReplayed == 0)
            _firstReplayed = LastSequenceNr;
        _window.Append(LastSequenceNr, batch);
        _dedup.Stored(batch.Events);
        foreach (var e in batch.Events)
        {
            _newestReplayed!.Enqueue(new RecordId(e.WriteKey, e.MessageId));
            if (_newestReplayed.Count > NewestReplayedSought)
                _newestReplayed.Dequeue();
        }
        _recoveredMark = batch.Mark ?? _recoveredMark;
    }

    private void HandleRecoveryCompleted()
    {
        _truncatedThrough = _firstReplayed > 0 ? _firstReplayed - 1 : LastSequenceNr;
        _window.Recovered(LastSequenceNr, _recoveredMark?.DeliveredThrough ?? 0);
        _kafkaNow = _recoveredMark?.KafkaFrom ?? KafkaPositions.None;
        _replayedThrough = LastSequenceNr;
        if (_window.BacklogEvents > 0 && _role == SpoolRole.Own)
            _log.Info("Spooler {0} recovered {1} undelivered events ({2} bytes) in {3} batches; delivering them first",
                _spool, _window.BacklogEvents, _window.BacklogBytes, _window.Batches);
        ReportBacklog();
        _status?.ReportRecovered(_spool.Partition);
        ScheduleTruncation();
        if (_role == SpoolRole.Drain)
            FenceOrLetGo();
        else
            ReadKafkaBack();
    }

    /// <summary>
    /// Invariant 8: reads back from Kafka what replayed batches may have delivered already, from the recovered mark's
    /// positions; with nothing replayed (or no positions to start from) it asks only where the topic ends.
    /// </summary>
    private void ReadKafkaBack()
    {
        var from = _window.Batches > 0 && _kafkaNow.Next.Count > 0 ? _kafkaNow : null;
        var sought = _newestReplayed!.ToHashSet();
        var storedHere = StoredByLocalSpoolsAsync(sought);
        _kafkaReadBack.ReadAsync(PersistenceId, from, sought, CancellationToken.None)
            .ContinueWith(async read => new KafkaReadBackDone(await read, await storedHere), TaskScheduler.Default).Unwrap()
            .PipeTo(Self, failure: cause => new KafkaReadBackFailed(cause));
    }

    /// <summary>
    /// A drain's question to this collector's own spoolers: which of <paramref name="sought"/> they stored too. One that
    /// does not answer in time (restarting, still recovering) counts as holding none: its copy, if any, is then a duplicate.
    /// </summary>
    private async Task<IReadOnlySet<RecordId>> StoredByLocalSpoolsAsync(IReadOnlySet<RecordId> sought)
    {
        if (_localSpools.Count == 0 || sought.Count == 0)
            return new HashSet<RecordId>();
        var asked = new WhichAreStored(sought);
        var answers = await Task.WhenAll(_localSpools.Select(async spool =>
        {
            try
            {
                return (await spool.Ask<StoredHere>(asked, LocalSpoolsAnswerWithin)).Ids;
            }
            catch (AskTimeoutException)
            {
                return new HashSet<RecordId>();
            }
        }));
        return answers.SelectMany(ids => ids).ToHashSet();
    }

    private void HandleKafkaReadBackDone(KafkaReadBackDone done)
    {
        var result = done.Result;
        if (_window.Batches > 0 && _kafkaNow.Next.Count > 0)
        {
            // Replayed batches keep the recovered positions: a second crash must still look back to where they may be.
            _sentElsewhere = result.Records.Union(done.StoredHere).ToHashSet();
            // The backlog may have grown since recovery (requests are stored meanwhile): the count is the records found.
            _log.Info("Spooler {0}: read {1} records back from Kafka from {2}; {3} under this spool's header and {4} of its replayed events under another's (a replay or a retry another collector stored) are there already, and this collector's own spoolers hold {5} of them; none of these is sent again",
                _spool, result.RecordsRead, _kafkaNow, result.Records.Count - result.FromOtherSpools, result.FromOtherSpools, done.StoredHere.Count);
        }
        else
        {
            if (_window.Batches > 0)
                _log.Info("Spooler {0}: the journal records no delivery positions for the {1} replayed events; they are sent again (at least once)",
                    _spool, _window.BacklogEvents);
            _kafkaNow = _kafkaNow.Max(result.End);
        }
        _kafkaRead = true;
        _newestReplayed = null;
        PublishWhatFits();
    }

    private void HandleKafkaReadBackFailed(KafkaReadBackFailed failed)
    {
        _log.Warning(failed.Cause, "Spooler {0}: reading Kafka back failed; nothing is handed over until it succeeds, retrying in 1 s", _spool);
        Timers.StartSingleTimer("kafka-read-back", new RetryKafkaReadBack(), TimeSpan.FromSeconds(1));
    }
}
