using System.Globalization;
using System.Text;

namespace AkkaCollector.Rig.Verification;

/// <summary>How one event's request ended, as the producer saw it.</summary>
public enum EventOutcome
{
    /// <summary>200: the collector says the event is in its journal; it must reach Kafka.</summary>
    Acked,

    /// <summary>An HTTP answer other than 200 (4xx/5xx); the collector promised nothing.</summary>
    Rejected,

    /// <summary>No HTTP answer at all (refused, reset, timed out); the event may or may not have been stored.</summary>
    ConnectionError,
}

/// <summary>One attempt at sending one event: where it went, how it ended, and why when it was not acked.</summary>
/// <param name="ElapsedMs">Milliseconds since the traffic started when the answer (or the failure) came.</param>
/// <param name="Target">The collector the request went to.</param>
/// <param name="Status">HTTP status; 0 for connection errors.</param>
/// <param name="Cause">"ok", the collector's JSON reason with its status, or the connection error's kind.</param>
/// <param name="LatencyMs">How long the attempt took, from sending to its answer or failure.</param>
public sealed record LedgerEntry(long ElapsedMs, string Target, string MessageId, EventOutcome Outcome, int Status, string Cause, double LatencyMs)
{
    /// <summary>Milliseconds since the traffic started when the attempt was sent.</summary>
    public double StartedMs => ElapsedMs - LatencyMs;
}

/// <summary>
/// Every attempt the traffic generator made at every event and how it ended (an event sent again after a 5xx has
/// an entry per attempt), kept in memory for the verdict and the tests, and appended to a tab-separated file
/// (elapsed ms, target, messageId, outcome, status, cause, latency ms) so a run can be audited afterwards. Thread-safe.
/// </summary>
public sealed class Ledger : IDisposable
{
    private const string Header = "elapsed_ms\ttarget\tmessage_id\toutcome\tstatus\tcause\tlatency_ms";
    private const int Fields = 7;
    private readonly object _gate = new();
    private readonly List<LedgerEntry> _entries = [];
    private readonly StreamWriter? _file;
    private int _ackedCount;

    /// <summary>A ledger kept in memory and, when <paramref name="path"/> is given, written to that file as it grows.</summary>
    public Ledger(string? path = null)
    {
        Path = path;
        if (path is null)
            return;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _file = new StreamWriter(path, append: false, new UTF8Encoding(false), bufferSize: 1 << 16);
        _file.WriteLine(Header);
    }

    /// <summary>The file the ledger is written to, if any.</summary>
    public string? Path { get; }

    /// <summary>A copy of every entry so far.</summary>
    public IReadOnlyList<LedgerEntry> Entries
    {
        get
        {
            lock (_gate)
                return _entries.ToArray();
        }
    }

    /// <summary>Events answered 200 so far (an event is sent again only when it was not, so each counts once).</summary>
    public int AckedCount => Volatile.Read(ref _ackedCount);

    /// <summary>The messageIds answered 200: the collector's promise that they are durable.</summary>
    public IReadOnlyCollection<string> Acked
    {
        get
        {
            lock (_gate)
                return _entries.Where(e => e.Outcome == EventOutcome.Acked).Select(e => e.MessageId).ToHashSet(StringComparer.Ordinal);
        }
    }

    /// <summary>Every attempt not answered 200, in the order the answers came.</summary>
    public IReadOnlyList<LedgerEntry> Failures
    {
        get
        {
            lock (_gate)
                return _entries.Where(e => e.Outcome != EventOutcome.Acked).ToArray();
        }
    }

    /// <summary>The messageIds never answered 200 (so far): a 4xx, or still failing when the producer gave up.</summary>
    public IReadOnlyCollection<string> NeverAcked
    {
        get
        {
            lock (_gate)
            {
                var never = _entries.Select(e => e.MessageId).ToHashSet(StringComparer.Ordinal);
                never.ExceptWith(_entries.Where(e => e.Outcome == EventOutcome.Acked).Select(e => e.MessageId));
                return never;
            }
        }
    }

    /// <summary>Records the outcome of every event of one request.</summary>
    public void Record(IEnumerable<LedgerEntry> entries)
    {
        lock (_gate)
        {
            foreach (var entry in entries)
            {
                _entries.Add(entry);
                _file?.WriteLine(Format(entry));
                if (entry.Outcome == EventOutcome.Acked)
                    Interlocked.Increment(ref _ackedCount);
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> events are acked; false if not within <paramref name="timeout"/>.</summary>
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

    /// <summary>Acked and never-acked events, and the failed attempts by cause.</summary>
    public override string ToString()
    {
        var failures = Failures;
        var causes = failures.GroupBy(f => f.Cause).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}");
        return $"{AckedCount} acked, {NeverAcked.Count} never acked, {failures.Count} failed attempts ({string.Join(", ", causes)})";
    }

    /// <summary>Reads a ledger file written by <see cref="Ledger"/>.</summary>
    public static IEnumerable<LedgerEntry> ReadFile(string path) =>
        File.ReadLines(path).Skip(1).Where(line => line.Length > 0).Select(Parse);

    /// <summary>Writes what is buffered to the file.</summary>
    public void Flush()
    {
        lock (_gate)
            _file?.Flush();
    }

    public void Dispose()
    {
        lock (_gate)
            _file?.Dispose();
    }

    private static string Format(LedgerEntry e) =>
        string.Join('\t', e.ElapsedMs.ToString(CultureInfo.InvariantCulture), e.Target, e.MessageId, OutcomeName(e.Outcome),
            e.Status.ToString(CultureInfo.InvariantCulture), Sanitize(e.Cause), e.LatencyMs.ToString("0.###", CultureInfo.InvariantCulture));

    private static LedgerEntry Parse(string line)
    {
        var f = line.Split('\t');
        if (f.Length != Fields)
            throw new FormatException($"A ledger line has {Fields} tab-separated fields, not {f.Length}: '{line}'.");
        var outcome = f[3] switch
        {
            "acked" => EventOutcome.Acked,
            "rejected" => EventOutcome.Rejected,
            "connection_error" => EventOutcome.ConnectionError,
            _ => throw new FormatException($"Unknown ledger outcome '{f[3]}'."),
        };
        return new LedgerEntry(long.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2], outcome, int.Parse(f[4], CultureInfo.InvariantCulture), f[5],
            double.Parse(f[6], CultureInfo.InvariantCulture));
    }

    private static string OutcomeName(EventOutcome outcome) => outcome switch
    {
        EventOutcome.Acked => "acked",
        EventOutcome.Rejected => "rejected",
        _ => "connection_error",
    };

    // A reason is free text from the collector or an exception: keep the file one record per line.
    private static string Sanitize(string text) => text.Replace('\t', ' ').ReplaceLineEndings(" ");
}
