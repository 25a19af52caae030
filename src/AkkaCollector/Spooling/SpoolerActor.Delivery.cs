// The spooler's delivery: hand-overs in journal order, spilled batches read back, confirmations and retries (invariants 4, 6, 8).

using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

public sealed partial class SpoolerActor
{
    /// <summary>Does what the delivery window asks: hands batches to Kafka while it has room, reads spilled ones back.</summary>
    private void PublishWhatFits()
    {
        if (IsRecovering || !_kafkaRead || !StillOwned())
            return;

        var producersActive = _clock.GetElapsedTime(_lastRequestAt) < ProducersActiveWithin;
        while (_window.Next(producersActive, _kafkaNow) is { } step)
        {
            if (step is DeliveryStep.HandOver handOver)
            {
                HandOver(handOver.Batch, firstTime: true);
                continue;
            }
            var readBack = (DeliveryStep.ReadBack)step;
            StartPacingCatchUp();
            _reader.ReadAsync(PersistenceId, readBack.From, readBack.To).PipeTo(Self,
                success: batches => new SpilledBatchesLoaded(batches),
                failure: cause => new SpilledBatchesFailed(cause));
            break;
        }
        if (_window.MeteredFor(producersActive) is { } held && !Timers.IsTimerActive(CatchUpMeter))
            Timers.StartSingleTimer(CatchUpMeter, ResumeCatchUp.Instance, held);
    }

    private void StartPacingCatchUp()
    {
        if (_options.CatchUpPace <= 0 || Timers.IsTimerActive(CatchUpPacer))
            return;
        _intake = 0;
        Timers.StartPeriodicTimer(CatchUpPacer, PaceCatchUp.Instance, CatchUpPacedEvery);
    }

    /// <summary>Once a second during a catch-up: its window and its meter follow what producers stored in that second.</summary>
    private void HandlePaceCatchUp()
    {
        _window.PaceCatchUp(_intake);
        _intake = 0;
        if (!_window.CatchingUp)
            Timers.Cancel(CatchUpPacer);
        PublishWhatFits();
    }

    /// <summary>Hands a batch to Kafka without the replayed events Kafka holds already (invariant 8).</summary>
    private void HandOver(HandOff batch, bool firstTime)
    {
        if (_sentElsewhere is { } delivered && batch.SequenceNr <= _replayedThrough)
        {
            var rest = batch.Events.Where(e => !delivered.Contains(new RecordId(e.WriteKey, e.MessageId))).ToList();
            if (firstTime)
                CollectorMetrics.RecoveryDuplicatesAvoided.Inc(batch.Events.Count - rest.Count);
            batch = batch with { Events = rest };
        }
        // Nothing left to send (all in Kafka already, or a takeover's fence, which holds no events): confirmed as it is.
        if (batch.Events.Count == 0)
            Self.Tell(new BatchDelivered(batch.SequenceNr, null, KafkaPositions.None));
        else
            _handOff.Tell(batch);
    }

    private void HandleSpilledBatchesLoaded(SpilledBatchesLoaded loaded)
    {
        _window.ReadBackCompleted(loaded.Batches);
        PublishWhatFits();
    }

    private void HandleSpilledBatchesFailed(SpilledBatchesFailed failed)
    {
        _window.ReadBackFailed();
        _log.Warning(failed.Cause, "Spooler {0}: reading spilled batches back from the journal failed; retrying in 1 s", _spool);
        Timers.StartSingleTimer("reload", new RetryReload(), TimeSpan.FromSeconds(1));
    }

    private void HandleBatchDelivered(BatchDelivered delivered)
    {
        // Until the replayed batches are delivered, positions stay where the recovered mark put them: a replayed batch
        // handed over after this confirmation must still record where its copies from before the restart may be.
        if (_window.DeliveredThrough >= _replayedThrough)
            _kafkaNow = _kafkaNow.Max(delivered.Confirmed);
        if (delivered.Error is not null)
        {
            if (_window.Unconfirmed(delivered.SequenceNr) is not { } failed)
                return;
            _log.Warning("Spooler {0}: Kafka did not confirm batch {1} ({2} events): {3}; retrying", _spool, delivered.SequenceNr, failed, delivered.Error);
            Timers.StartSingleTimer("retry-deliveries", new RetryFailedDeliveries(), TimeSpan.FromSeconds(1));
            PublishWhatFits();
            return;
        }

        if (_window.Confirmed(delivered.SequenceNr) is not { } confirmed)
            return;
        CollectorMetrics.EventsDelivered.Inc(confirmed);
        CountTakenOverDelivery(confirmed);
        if (_window.DeliveredThrough >= _replayedThrough)
            _sentElsewhere = null;
        ReportBacklog();
        ScheduleTruncation();
        PublishWhatFits();
    }

    /// <summary>
    /// A batch Kafka reported failed may still be partly there: records confirmed before others failed, or written
    /// before librdkafka gave up waiting for them. The topic is read back first and only the rest is sent again.
    /// </summary>
    private void HandleRetryFailedDeliveries()
    {
        var retries = _window.TakeRetries();
        if (retries.Count > 0)
            _kafkaReadBack.ReadAsync(PersistenceId, _window.KafkaFrom(_kafkaNow),
                retries.SelectMany(retry => retry.Events).Select(e => new RecordId(e.WriteKey, e.MessageId)).ToHashSet(), CancellationToken.None).PipeTo(Self,
                success: result => new RetryReadBackDone(retries, result),
                failure: cause => new RetryReadBackFailed(retries, cause));
        PublishWhatFits();
    }

    private void HandleRetryReadBackDone(RetryReadBackDone done)
    {
        foreach (var retry in done.Retries)
        {
            var rest = retry.Events.Where(e => !done.Result.Records.Contains(new RecordId(e.WriteKey, e.MessageId))).ToList();
            CollectorMetrics.RecoveryDuplicatesAvoided.Inc(retry.Events.Count - rest.Count);
            if (rest.Count == 0)
                Self.Tell(new BatchDelivered(retry.SequenceNr, null, KafkaPositions.None));
            else
                HandOver(retry with { Events = rest }, firstTime: false);
        }
    }

    private void HandleRetryReadBackFailed(RetryReadBackFailed failed)
    {
        _log.Warning(failed.Cause, "Spooler {0}: reading Kafka back before sending {1} failed batches again failed; retrying in 1 s", _spool, failed.Retries.Count);
        foreach (var retry in failed.Retries)
            _window.Unconfirmed(retry.SequenceNr);
        Timers.StartSingleTimer("retry-deliveries", new RetryFailedDeliveries(), TimeSpan.FromSeconds(1));
    }
}
