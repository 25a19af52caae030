using System.Diagnostics;

namespace AkkaCollector.Spooling;

/// <summary>
/// The answer one HTTP request awaits from a spooler (the completion an <see cref="Enqueue"/> carries), bounded by
/// Spool:WriteTimeout through <see cref="WriteDeadlines"/> and ended early when the client goes away.
/// </summary>
public sealed class SpoolAnswer : TaskCompletionSource<SpoolOutcome>
{
    private readonly WriteDeadlines _deadlines;
    private CancellationTokenRegistration _clientGone;

    internal SpoolAnswer(WriteDeadlines deadlines, long dueAt)
    {
        _deadlines = deadlines;
        DueAt = dueAt;
    }

    /// <summary>When the request is answered "timeout" if nobody answered before (a <see cref="Stopwatch"/> timestamp).</summary>
    internal long DueAt { get; }

    internal SpoolAnswer? Previous { get; set; }

    internal SpoolAnswer? Next { get; set; }

    internal bool Pending { get; set; }

    /// <summary>The spooler's answer; one that comes after the deadline or the client's going away is dropped.</summary>
    public void Answer(SpoolOutcome outcome)
    {
        if (TrySetResult(outcome))
            Settled();
    }

    internal void WatchClient(CancellationToken clientGone)
    {
        if (clientGone.CanBeCanceled)
            _clientGone = clientGone.UnsafeRegister(static (answer, token) => ((SpoolAnswer)answer!).ClientGone(token), this);
    }

    // The token drops its registration as it runs it: only the deadlines still hold this answer.
    private void ClientGone(CancellationToken token)
    {
        if (TrySetCanceled(token))
            _deadlines.Remove(this);
    }

    /// <summary>The deadline passed first; the deadlines no longer hold this answer.</summary>
    internal void Expire()
    {
        if (TrySetException(new TimeoutException()))
            _clientGone.Unregister();
    }

    private void Settled()
    {
        _clientGone.Unregister();
        _deadlines.Remove(this);
    }
}

/// <summary>
/// Every <see cref="SpoolAnswer"/> still awaited, oldest first, and one timer that answers those past
/// Spool:WriteTimeout with a <see cref="TimeoutException"/> (503 "timeout"). It replaces a timer and a promise per
/// request (<c>Task.WaitAsync</c>): 408 → 152 B per request, 4.5 % of a single event's sampled allocations before
/// (docs/benchmark.md, issue 18). All answers share one timeout, so the list is in deadline order: a sweep stops at the
/// first answer still in time. The timer ticks every tenth of the timeout or every 100 ms, whichever is shorter, while
/// something is awaited, so a request times out at most one tick after its deadline. Whoever settles an answer first
/// (the spooler, the client's going away, the sweep) takes it out of the list, so the list holds only requests still
/// waiting.
/// </summary>
public sealed class WriteDeadlines
{
    private static readonly TimeSpan MaxTick = TimeSpan.FromMilliseconds(100);
    private readonly long _timeout;
    private readonly TimeSpan _tick;
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private SpoolAnswer? _oldest;
    private SpoolAnswer? _newest;
    private bool _ticking;

    public WriteDeadlines(TimeSpan timeout)
    {
        _timeout = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        _tick = TimeSpan.FromTicks(Math.Max(1, Math.Min(timeout.Ticks / 10, MaxTick.Ticks)));
        _timer = new Timer(static deadlines => ((WriteDeadlines)deadlines!).Sweep(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>A new answer, due a write timeout from now and cancelled when <paramref name="clientGone"/> is.</summary>
    public SpoolAnswer Start(CancellationToken clientGone)
    {
        var answer = new SpoolAnswer(this, Stopwatch.GetTimestamp() + _timeout);
        answer.WatchClient(clientGone);
        lock (_lock)
        {
            // A client gone already (or while registering) settled it; its removal ran before this lock or runs after it.
            if (answer.Task.IsCompleted)
                return answer;
            answer.Pending = true;
            answer.Previous = _newest;
            if (_newest is null)
                _oldest = answer;
            else
                _newest.Next = answer;
            _newest = answer;
            if (!_ticking)
            {
                _ticking = true;
                _timer.Change(_tick, _tick);
            }
        }
        return answer;
    }

    internal void Remove(SpoolAnswer answer)
    {
        lock (_lock)
            Unlink(answer);
    }

    private void Unlink(SpoolAnswer answer)
    {
        if (!answer.Pending)
            return;
        answer.Pending = false;
        if (answer.Previous is null)
            _oldest = answer.Next;
        else
            answer.Previous.Next = answer.Next;
        if (answer.Next is null)
            _newest = answer.Previous;
        else
            answer.Next.Previous = answer.Previous;
        answer.Previous = answer.Next = null;
    }

    private void Sweep()
    {
        List<SpoolAnswer>? expired = null;
        var now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            while (_oldest is { } oldest && oldest.DueAt <= now)
            {
                Unlink(oldest);
                (expired ??= []).Add(oldest);
            }
            if (_oldest is null && _ticking)
            {
                _ticking = false;
                _timer.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }
        // Outside the lock: an answer runs the rest of its request (the 503) on the thread that completes it.
        if (expired is not null)
        {
            foreach (var answer in expired)
                answer.Expire();
        }
    }
}
