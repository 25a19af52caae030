// The spooler's side of ownership (invariant 9): no write and no hand-over without a claim that certainly holds; a
// spool taken over is fenced, drained and let go.

using Akka.Actor;
using Akka.Event;
using AkkaCollector.Observability;

namespace AkkaCollector.Spooling;

public sealed partial class SpoolerActor
{
    /// <summary>False once this collector's claim has lapsed (a pause longer than the lease): nothing is written or handed over then.</summary>
    private bool StillOwned()
    {
        var owned = _ownership?.Holds ?? true;
        if (!owned && !_claimLapsed)
            _log.Warning("Spooler {0}: this collector's claim on its spools has lapsed (was the process paused?); it neither writes nor hands anything to Kafka until its lock session answers again", _spool);
        if (!owned)
            Timers.StartSingleTimer("claim-lapsed", new RetryReload(), TimeSpan.FromSeconds(1));
        _claimLapsed = !owned;
        return owned;
    }

    /// <summary>Requests that cannot be written now are answered 503 at once: the producer retries them, here or elsewhere.</summary>
    private void RefuseWhatWaits()
    {
        SpoolRequester.AnswerAll(_waiting.Concat(_parked).Select(w => w.ReplyTo).ToList(), SpoolReply.Failed);
        foreach (var request in _waiting)
            _dedup.Abandoned(request.Events);
        _waiting.Clear();
        _parked.Clear();
        _waitingBytes = 0;
        _waitingEvents = 0;
        ReportBacklog();
    }

    /// <summary>
    /// A spool taken over: before delivering anything, one empty batch is written at the next sequence number, so a
    /// paused owner that wakes and writes collides with it on the journal's (persistence id, sequence number) key and
    /// its write fails (answered 503, never acknowledged). It also records the recovered mark, so whoever replays the
    /// spool next still knows where in Kafka to look. A spool recovered with nothing to deliver is truncated and let go.
    /// </summary>
    private void FenceOrLetGo()
    {
        if (_window.Batches == 0)
        {
            // Delivered already; rows left untruncated would make it look undelivered to every later scan.
            if (_window.DeliveredThrough > _truncatedThrough)
                TruncateDelivered();
            else
                LetGoWhenDrained();
            return;
        }
        CollectorMetrics.SpoolsTakenOver.Inc();
        // A warning: a collector is gone with events undelivered, which operators want to hear about.
        _log.Warning("Spool {0} taken over: no running spooler delivers it (its collector is gone, it is beyond Spool:Partitions, or it was written before instance ids); {1} undelivered events ({2} bytes) in {3} batches; fencing it at sequence number {4}, then delivering them",
            _spool, _window.BacklogEvents, _window.BacklogBytes, _window.Batches, LastSequenceNr + 1);
        _toDrain = _window.BacklogEvents;
        Persist(new SpoolBatch([], new DeliveryMark(_window.DeliveredThrough, _window.KafkaFrom(_kafkaNow))), fence =>
        {
            _window.Append(LastSequenceNr, fence);
            ReadKafkaBack();
        });
    }

    /// <summary>A spool taken over is done once every batch is confirmed and the journal truncated through the fence.</summary>
    private void LetGoWhenDrained()
    {
        if (_role == SpoolRole.Drain && _window.Batches == 0 && _truncatedThrough >= LastSequenceNr)
            Context.Parent.Tell(new SpoolDrained(_spool, _toDrain));
    }

    private void CountTakenOverDelivery(int confirmed)
    {
        if (_role == SpoolRole.Drain)
            CollectorMetrics.TakenOverEventsDelivered.Inc(confirmed);
    }
}
