namespace AkkaCollector.Rig.Verification;

/// <summary>
/// A span of traffic time (the ledger's milliseconds) in which a step kept one collector from answering on purpose:
/// from a <c>kill</c> or <c>restart</c> step until the collector is live again (or the run's end).
/// </summary>
public sealed record RefusalWindow(string Target, long FromMs, long ToMs)
{
    public bool Covers(LedgerEntry entry) =>
        string.Equals(entry.Target, Target, StringComparison.Ordinal) && entry.ElapsedMs >= FromMs && entry.ElapsedMs <= ToMs;
}

/// <summary>
/// How much of the traffic the collectors acknowledged, outside the refusal windows. The verdict alone would pass a
/// run whose collectors answered 401 or 5xx to everything: nothing acked, so nothing lost. A run passes only when
/// its collectors acked something and at least <see cref="LeastAckedShare"/> of what they were sent while no step
/// was refusing traffic on purpose (Kafka or Redis cut are not refusals: the collectors keep acking through them).
/// </summary>
/// <param name="Sent">Events sent outside every refusal window.</param>
/// <param name="Acked">Of those, the events answered 200.</param>
public sealed record Acceptance(int Sent, int Acked)
{
    /// <summary>
    /// 90 %: a collector that works acks all of them but the few requests cut by a timeout on a loaded machine (the
    /// measured runs in docs/rig.md acked every one); a collector that refuses a whole class of request acks far less.
    /// </summary>
    public const double LeastAckedShare = 0.9;

    /// <summary>Counts the ledger's entries outside <paramref name="refusals"/>.</summary>
    public static Acceptance Compute(IEnumerable<LedgerEntry> ledger, IReadOnlyCollection<RefusalWindow> refusals)
    {
        var sent = 0;
        var acked = 0;
        foreach (var entry in ledger)
        {
            if (refusals.Any(window => window.Covers(entry)))
                continue;
            sent++;
            if (entry.Outcome == EventOutcome.Acked)
                acked++;
        }
        return new Acceptance(sent, acked);
    }

    /// <summary>Something was acked, and at least <see cref="LeastAckedShare"/> of what was sent outside refusals.</summary>
    public bool Enough => Acked > 0 && Acked >= LeastAckedShare * Sent;

    public override string ToString() =>
        $"{Acked} of {Sent} events sent outside the steps that refuse traffic on purpose were acked " +
        $"({(Sent == 0 ? 0 : 100.0 * Acked / Sent):0.#} %, at least {LeastAckedShare * 100:0} % and more than none required)";
}
