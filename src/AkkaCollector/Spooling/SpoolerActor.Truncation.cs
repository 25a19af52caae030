// The spooler's truncation: paced deletes of what Kafka confirmed, and shutdown's last one (invariant 5).

using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace AkkaCollector.Spooling;

public sealed partial class SpoolerActor
{
    /// <summary>Truncation waits for the interval's timer, so deliveries in between are truncated by one delete.</summary>
    private void ScheduleTruncation()
    {
        if (_deleteInFlight || _window.DeliveredThrough <= _truncatedThrough || Timers.IsTimerActive(TruncationTimer))
            return;
        Timers.StartSingleTimer(TruncationTimer, TruncationDue.Instance, _options.TruncationInterval);
    }

    private void TruncateDelivered()
    {
        if (_deleteInFlight || _window.DeliveredThrough <= _truncatedThrough)
            return;
        if (!StillOwned())
        {
            ScheduleTruncation();
            return;
        }
        _deleteInFlight = true;
        DeleteMessages(_window.DeliveredThrough);
    }

    /// <summary>
    /// Shutdown asks for one last truncation after Kafka's final flush, so that what Kafka confirmed since the last
    /// paced truncation is not sent again after the restart. The answer comes once the journal is truncated.
    /// </summary>
    private void HandleTruncateNow()
    {
        _truncationWaiters.Add(Sender);
        Timers.Cancel(TruncationTimer);
        if (_deleteInFlight)
            return;
        if (_window.DeliveredThrough > _truncatedThrough)
            TruncateDelivered();
        else
            AnswerTruncationWaiters();
    }

    private void HandleDeleteSuccess(DeleteMessagesSuccess success)
    {
        _deleteInFlight = false;
        _truncatedThrough = Math.Max(_truncatedThrough, success.ToSequenceNr);
        LetGoWhenDrained();
        if (_truncationWaiters.Count == 0)
            ScheduleTruncation();
        else if (_window.DeliveredThrough > _truncatedThrough)
            TruncateDelivered();
        else
            AnswerTruncationWaiters();
    }

    private void AnswerTruncationWaiters()
    {
        foreach (var waiter in _truncationWaiters)
            waiter.Tell(new Truncated(_truncatedThrough));
        _truncationWaiters.Clear();
    }

    private void HandleDeleteFailure(DeleteMessagesFailure failure)
    {
        // Not fatal: undeleted delivered batches only cost disk, and a restart would redeliver them (duplicates).
        _deleteInFlight = false;
        _log.Warning(failure.Cause, "Spooler {0}: truncating the journal to {1} failed; retrying in {2}", _spool, failure.ToSequenceNr, _options.TruncationInterval);
        AnswerTruncationWaiters();
        ScheduleTruncation();
    }
}
