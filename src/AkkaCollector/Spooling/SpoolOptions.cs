using System.ComponentModel.DataAnnotations;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AkkaCollector.Spooling;

/// <summary>Operator settings of the spool (.NET configuration section "Spool"). Defaults suit one collector on a small VM.</summary>
public sealed class SpoolOptions
{
    public const string Section = "Spool";

    /// <summary>Folder of the SQLite journal file (sqlite provider). Created when missing.</summary>
    [Required]
    public string Path { get; set; } = ".spool";

    /// <summary>Journal database: "sqlite" (embedded default) or "postgresql".</summary>
    [RegularExpression("^(sqlite|postgresql)$", ErrorMessage = "Spool:Provider must be sqlite or postgresql")]
    public string Provider { get; set; } = "sqlite";

    /// <summary>Connection string for postgresql (required there); for sqlite it overrides Spool:Path when set.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// SQLite only: true syncs the journal to disk on every commit (an acknowledged event survives power loss);
    /// false leaves flushing to the OS (it survives kill -9 and crashes of the collector, not of the machine).
    /// </summary>
    public bool SqliteSyncEveryCommit { get; set; } = true;

    /// <summary>
    /// Create the journal table on start when it is missing. Turn it off where the collector's database user may
    /// not run DDL (the table is then created ahead of time, e.g. by one start with a privileged user).
    /// </summary>
    public bool AutoInitialize { get; set; } = true;

    /// <summary>
    /// Spooler actors. Events are routed by hash(write key, user); keep it stable across restarts of one spool (a spool
    /// left by a larger value is still drained). Every spooler writes its own journal rows, and the journal's cost is per
    /// row far more than per event: 2 measured 2x the events/s of 8 on SQLite with 2 cores (docs/benchmark.md).
    /// </summary>
    [Range(1, MaxPartitions)]
    public int Partitions { get; set; } = 2;

    /// <summary>Upper bound of Spool:Partitions; spools left by a larger setting are still found and drained.</summary>
    public const int MaxPartitions = 256;

    /// <summary>Bound on undelivered payload bytes across all spoolers. Past it, producers get 503 + Retry-After.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Undelivered payload bytes each spooler keeps in memory; the rest is read back from the journal when Kafka can take
    /// it. Events cost about 1.5x their payload in memory (ids, keys, objects); 4 MiB kept a 1-million-event outage under
    /// 300 MB of RSS where 16 MiB reached 385 MB, and read-back still delivered 100 k events/s (docs/benchmark.md).
    /// </summary>
    [Range(64 * 1024, long.MaxValue)]
    public long MemoryBytesPerPartition { get; set; } = 4L << 20;

    /// <summary>Most events in one journal write (one group commit).</summary>
    [Range(1, 100_000)]
    public int MaxBatchEvents { get; set; } = 4000;

    /// <summary>
    /// Journal writes a spooler keeps in flight; while they run, new requests gather into the next write. One write at a
    /// time makes each write gather more requests: on SQLite (one writer) that measured cheaper per event than pipelining.
    /// </summary>
    [Range(1, 16)]
    public int MaxWritesInFlight { get; set; } = 1;

    /// <summary>
    /// How long a journal write may wait to gather more requests when fewer than CommitDelayBelowEvents events wait for
    /// it (PostgreSQL's commit_delay, for the same reason): at a moderate rate each write carried 7-8 events, and
    /// 1 ms here halved the writes, the p99 and a tenth of the CPU per event (docs/benchmark.md). 0 writes at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:00.100")]
    public TimeSpan CommitDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Events waiting for a write at and above which it starts at once, whatever CommitDelay says.</summary>
    [Range(0, 100_000)]
    public int CommitDelayBelowEvents { get; set; } = 16;

    /// <summary>
    /// Events a spooler hands to the Kafka producer before it waits for delivery reports: what a drain holds in memory
    /// beyond the spool's own window, and what librdkafka may batch. 5000 keeps librdkafka's batches full; the hand-over
    /// itself runs in the spooler's child (HandOffActor), not in the spooler, so requests never wait behind it.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxUnconfirmedEvents { get; set; } = 5_000;

    /// <summary>
    /// The same window for a catch-up: batches that had been spilled to the journal (Kafka was away or slow) while
    /// producers are sending (a request within the last second). Delivering a backlog competes with live requests for
    /// the CPU; a smaller window paces it. With 1000, a 1-million-event backlog drained at 2.8x the live rate while
    /// producers kept 96 % of their pace at a p99 of 29 ms; with 5000 they kept 89-90 % at 49-57 ms
    /// (docs/benchmark.md). With no producer sending, a catch-up uses MaxUnconfirmedEvents. The window starts here;
    /// CatchUpPace moves it.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxUnconfirmedBacklogEvents { get; set; } = 1_000;

    /// <summary>
    /// What a catch-up delivers while producers are sending, as a multiple of what they send: each second a spooler
    /// meters the catch-up's hand-overs to this times its intake of the second before (DeliveryWindow.MeterFloor at
    /// least), and widens its window (from MaxUnconfirmedBacklogEvents by half, up to MaxUnconfirmedEvents) while its
    /// backlog went out slower. The fixed window of 1000 drained at 2.3-2.8x the live rate in the second round and at
    /// 1.1-1.8x in the fourth and fifth, on the same machine, as the cost of delivery changed; the pace follows what
    /// producers send instead (docs/benchmark.md, issue 18's fifth round). A window could only slow it down so far: by
    /// the sixteenth round one batch at a time delivered 4x the live rate, so the pace is now a meter.
    /// 0 keeps the window at MaxUnconfirmedBacklogEvents, unmetered.
    /// </summary>
    [Range(0.0, 100.0)]
    public double CatchUpPace { get; set; } = 2.5;

    /// <summary>
    /// How often a spooler truncates the batches Kafka has confirmed. Each truncation is a journal transaction that
    /// competes with writes for SQLite's one writer; after a crash, at most this much delivered traffic is replayed and
    /// read back from Kafka to be skipped (SpoolerActor, invariant 8).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan TruncationInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a request waits for its journal write before it is answered 503.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Stored messageIds each spooler remembers to drop a retried request's copies (invariant 7 of SpoolerActor). Set from
    /// Ingress:DedupWindow by the ingress wiring, not bound from the Spool section: the setting belongs to the HTTP API.
    /// </summary>
    public int DedupWindow { get; internal set; }

    /// <summary>
    /// PostgreSQL only: how long after a collector is gone (crashed, scaled down, host lost, paused) the survivors take
    /// its undelivered spools over. Each collector holds its spools' advisory locks on one database session that the
    /// server ends after TakeoverAfter / 2 without a ping (idle_session_timeout); survivors look for free spools every
    /// TakeoverAfter / 4. Shorter takes over sooner; the owner pings every TakeoverAfter / 8, so a collector stalled for
    /// longer than TakeoverAfter / 2 (a long GC pause, a starved host) loses its spools and takes them back once drained.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:04", "01:00:00")]
    public TimeSpan TakeoverAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>This collector's name in its spools' persistence ids: Collector:InstanceId, set by the spool's wiring.</summary>
    public string InstanceId { get; internal set; } = "";

    /// <summary>Bytes each spooler may hold: the global bound shared evenly.</summary>
    public long MaxBytesPerPartition => Math.Max(1, MaxBytes / Partitions);
}

/// <summary>The spool rules one attribute cannot express, each failure naming its setting.</summary>
internal sealed class SpoolOptionsValidator : IValidateOptions<SpoolOptions>
{
    public const string ConnectionStringRequired = "Spool:ConnectionString is required when Spool:Provider is postgresql.";

    public ValidateOptionsResult Validate(string? name, SpoolOptions options)
    {
        var failures = new List<string>();
        if (options.Provider == "postgresql" && string.IsNullOrWhiteSpace(options.ConnectionString))
            failures.Add(ConnectionStringRequired);
        if (options.WriteTimeout <= TimeSpan.Zero)
            failures.Add($"Spool:WriteTimeout must be above 0 (was {options.WriteTimeout}).");
        if (options is { Provider: "sqlite", ConnectionString: null } && FolderProblem(options.Path) is { } problem)
            failures.Add($"Spool:Path = '{options.Path}': {problem}");
        if (!string.IsNullOrWhiteSpace(options.ConnectionString) && ConnectionStringProblem(options.Provider, options.ConnectionString) is { } malformed)
            failures.Add($"Spool:ConnectionString is not a {options.Provider} connection string: {malformed}");
        else if (options is { Provider: "sqlite", ConnectionString: { } sqlite } && JournalFileOf(sqlite) is { } file && FileProblem(file) is { } unwritable)
            failures.Add($"Spool:ConnectionString names the journal '{file}': {unwritable}");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Parsed as the journal will parse it, so a typo ends the start here instead of inside the actor system's. The
    // value itself is not repeated: it may hold a password.
    private static string? ConnectionStringProblem(string provider, string connectionString)
    {
        try
        {
            _ = provider == "postgresql" ? new NpgsqlConnectionStringBuilder(connectionString).Host : new SqliteConnectionStringBuilder(connectionString).DataSource;
            return null;
        }
        catch (ArgumentException error)
        {
            return error.Message;
        }
    }

    /// <summary>
    /// Why the journal cannot live in <paramref name="folder"/>, or null. The folder is created here when missing (the
    /// start would create it anyway), and written to once: SQLite creates its -wal and -shm files beside the journal,
    /// and would otherwise fail inside the actor system's start, with a stack trace instead of this line.
    /// </summary>
    private static string? FolderProblem(string folder)
    {
        if (File.Exists(folder))
            return "is a file; name a folder for the journal (created when missing)";
        return WriteProblem(folder, Path.Combine(folder, SpoolJournalConfig.SqliteFileName), createFolder: true);
    }

    /// <summary>
    /// Why SQLite cannot open or create the journal <paramref name="file"/> a connection string names, or null. SQLite
    /// creates the file but not its folder, which is left as the operator made it (not created, unlike Spool:Path's).
    /// </summary>
    private static string? FileProblem(string file)
    {
        if (Directory.Exists(file))
            return "is a folder; name the journal's file";
        var folder = Path.GetDirectoryName(file)!;
        if (!Directory.Exists(folder))
            return $"its folder '{folder}' does not exist (SQLite creates the file, not its folder)";
        return WriteProblem(folder, file, createFolder: false);
    }

    // One file created and removed in the folder (SQLite writes its -wal and -shm files there), and the journal, if it
    // exists already, opened for writing.
    private static string? WriteProblem(string folder, string journal, bool createFolder)
    {
        try
        {
            if (createFolder)
                Directory.CreateDirectory(folder);
            using (File.Create(Path.Combine(folder, $".write-check-{Environment.ProcessId}"), 1, FileOptions.DeleteOnClose))
            {
            }
            if (File.Exists(journal))
                File.Open(journal, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite).Dispose();
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return $"the journal cannot be written there: {error.Message}";
        }
    }

    /// <summary>The full path of the file a SQLite connection string opens; null for an in-memory or temporary database.</summary>
    private static string? JournalFileOf(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var source = builder.DataSource;
        if (builder.Mode == SqliteOpenMode.Memory || source.Length == 0 || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            return null;
        return Path.GetFullPath(source);
    }
}
