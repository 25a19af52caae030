using System.Collections.Concurrent;

namespace AkkaCollector.Testing.Traffic;

/// <summary>
/// What producers were told: every messageId answered 200 (the collector's promise that it is durable), every
/// failed attempt with its status or exception, and the messageIds given up on. Thread-safe.
/// </summary>
public sealed class AckLedger
{
    private readonly ConcurrentQueue<string> _acked = new();
    private readonly ConcurrentQueue<SendFailure> _failures = new();
    private readonly ConcurrentQueue<string> _abandoned = new();
    private readonly ConcurrentQueue<TimedAttempt> _attempts = new();
    private int _ackedCount;

    /// <summary>Events answered 200.</summary>
    public int AckedCount => Volatile.Read(ref _ackedCount);

    /// <summary>The messageIds answered 200.</summary>
    public IReadOnlyCollection<string> Acked => _acked.ToArray();

    /// <summary>Every attempt not answered 200, in arrival order.</summary>
    public IReadOnlyList<SendFailure> Failures => _failures.ToArray();

    /// <summary>messageIds never answered 200: a 4xx, or still failing when the sender gave up.</summary>
    public IReadOnlyCollection<string> Abandoned => _abandoned.ToArray();

    /// <summary>Every attempt, answered or not, with when it started and how long it took, in completion order.</summary>
    public IReadOnlyList<TimedAttempt> Attempts => _attempts.ToArray();

    /// <summary>Failed attempts by cause (HTTP status or exception type).</summary>
    public IReadOnlyDictionary<string, int> FailuresByCause =>
        _failures.GroupBy(f => f.Cause).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Polls until at least <paramref name="count"/> events are acked; false if not within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForAcksAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (AckedCount < count)
        {
            if (DateTime.UtcNow >= deadline)
                return false;
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
        return true;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{AckedCount} acked, {_abandoned.Count} abandoned, {_failures.Count} failed attempts ({string.Join(", ", FailuresByCause.Select(c => $"{c.Key}: {c.Value}"))})";

    internal void Ack(string messageId)
    {
        _acked.Enqueue(messageId);
        Interlocked.Increment(ref _ackedCount);
    }

    internal void Fail(SendFailure failure) => _failures.Enqueue(failure);

    internal void Abandon(string messageId) => _abandoned.Enqueue(messageId);

    internal void Time(TimedAttempt attempt) => _attempts.Enqueue(attempt);
}

/// <summary>One attempt's timing: when it started, how long until its answer (or its failure), and the status (null: no HTTP answer).</summary>
public sealed record TimedAttempt(string MessageId, DateTimeOffset StartedAt, TimeSpan Elapsed, int? Status);

/// <summary>One attempt that was not answered 200: an HTTP answer (status, Retry-After, body) or an exception.</summary>
public sealed record SendFailure(string MessageId, DateTimeOffset At, int? Status, string? RetryAfter, string? Body, string? Exception)
{
    /// <summary>The HTTP status, else the exception's kind: what failures are grouped by.</summary>
    public string Cause => Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Exception?.Split(':')[0] ?? "unknown";
}
