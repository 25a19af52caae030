using AkkaCollector.Testing.Kafka;

namespace AkkaCollector.Rig.Verification;

/// <summary>
/// What the ledger and the Kafka topic say together. <see cref="Lost"/> is the number that must be 0: events the
/// collector acknowledged that never reached Kafka. A producer's own retry may still repeat an event, so duplicates are counted, not failed.
/// </summary>
/// <param name="Acked">Distinct events answered 200.</param>
/// <param name="Lost">Acked events never seen in Kafka.</param>
/// <param name="Duplicates">Extra copies in Kafka of the ledger's events (an event seen three times counts two).</param>
/// <param name="NotAcked">Events never answered 200.</param>
/// <param name="NotAckedByCause">Not-acked events per cause (the JSON reason with its status, or the connection error).</param>
/// <param name="DeliveredWithoutAck">Not-acked events that reached Kafka anyway (stored, but the answer never arrived).</param>
/// <param name="LostSample">Up to 20 lost message ids, to start an investigation from.</param>
public sealed record Verdict(
    int Acked, int Lost, int Duplicates, int NotAcked, IReadOnlyDictionary<string, int> NotAckedByCause,
    int DeliveredWithoutAck, IReadOnlyList<string> LostSample)
{
    private const int SampleSize = 20;

    /// <summary>
    /// The topic's extra copies (of any record, the ledger's or not) by where they came from; empty when there were none
    /// or too many to tell apart.
    /// </summary>
    public IReadOnlyDictionary<CopyOrigin, int> DuplicatesByOrigin { get; init; } = new Dictionary<CopyOrigin, int>();

    /// <summary>What an origin means, for the verdict's table.</summary>
    public static string Describe(CopyOrigin origin) => origin switch
    {
        CopyOrigin.StoredByTwoSpools => "stored by two spools (a replay or retry that reached another collector)",
        CopyOrigin.SentAgainByOneSpool => "sent again by the spool that sent the first",
        CopyOrigin.WrittenTwiceByTheMock => "appended twice by the Kafka mock (a Produce it could not answer)",
        _ => origin.ToString(),
    };

    /// <summary>The run's last line, exactly as scripts and CI read it.</summary>
    public string Line => $"lost={Lost} duplicates={Duplicates} acked={Acked}";

    /// <summary>Compares the ledger with what was read from Kafka (<paramref name="timesSeen"/>: copies of a message id in the topic).</summary>
    public static Verdict Compute(IEnumerable<LedgerEntry> ledger, Func<string, int> timesSeen)
    {
        // An id can appear twice in a ledger only if a producer resent it; its first 200 is what counts.
        var acked = new HashSet<string>(StringComparer.Ordinal);
        var failed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in ledger)
        {
            if (entry.Outcome == EventOutcome.Acked)
                acked.Add(entry.MessageId);
            else
                failed.TryAdd(entry.MessageId, entry.Cause);
        }

        var lost = new List<string>();
        var duplicates = 0;
        foreach (var id in acked)
        {
            var seen = timesSeen(id);
            if (seen == 0)
                lost.Add(id);
            else
                duplicates += seen - 1;
        }

        var notAckedByCause = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var deliveredWithoutAck = 0;
        var notAcked = 0;
        foreach (var (id, cause) in failed)
        {
            if (acked.Contains(id))
                continue;
            notAcked++;
            notAckedByCause[cause] = notAckedByCause.GetValueOrDefault(cause) + 1;
            var seen = timesSeen(id);
            if (seen > 0)
            {
                deliveredWithoutAck++;
                duplicates += seen - 1;
            }
        }

        return new Verdict(acked.Count, lost.Count, duplicates, notAcked, notAckedByCause, deliveredWithoutAck, lost.Take(SampleSize).ToArray());
    }
}
