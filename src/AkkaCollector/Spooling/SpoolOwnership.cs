namespace AkkaCollector.Spooling;

/// <summary>
/// Who may write to and deliver from which spool (the design note is in docs/deploy.md, "Shared PostgreSQL spool").
/// A SQLite spool is owned by whoever holds its file (<see cref="FileOwnership"/>); a shared PostgreSQL spool by the
/// collector that holds its advisory lock (<see cref="PostgresOwnership"/>).
/// </summary>
public interface ISpoolOwnership
{
    /// <summary>
    /// True while this collector's claims are certainly still its own: a spooler checks it before every journal write
    /// and every hand-over to Kafka, and does neither when it is false (a paused process that wakes after its lease).
    /// </summary>
    bool Holds { get; }

    /// <summary>True once survivors may take spools over: not during the grace after (re)connecting, when live owners re-take theirs.</summary>
    bool MayTakeOver { get; }

    /// <summary>How often to look for spools to take over; null when once, at start, is enough.</summary>
    TimeSpan? ScanEvery { get; }

    /// <summary>
    /// Claims a spool: true when this collector holds it now, false when another collector does (or this one holds it
    /// already), null when nobody can say (no lock session: the database is unreachable); ask again later.
    /// </summary>
    Task<bool?> TryTakeAsync(SpoolId spool);

    /// <summary>Gives a claimed spool up (after draining it).</summary>
    Task ReleaseAsync(SpoolId spool);

    /// <summary>Spools the journal holds undelivered rows for.</summary>
    Task<IReadOnlyList<SpoolId>> UndeliveredSpoolsAsync();

    /// <summary>Raised with the spools whose claims were lost to another collector (this one was cut off or paused meanwhile).</summary>
    event Action<IReadOnlyList<SpoolId>>? Lost;
}

/// <summary>A SQLite spool: the file is this process's alone, so every claim holds, and the spools in it are listed once.</summary>
/// <param name="spoolsInFile">Lists every spool the journal holds rows for (<see cref="SqlSpoolReader.SpoolsInJournalAsync"/>).</param>
public sealed class FileOwnership(Func<Task<IReadOnlyList<SpoolId>>> spoolsInFile) : ISpoolOwnership
{
    public bool Holds => true;

    public bool MayTakeOver => true;

    public TimeSpan? ScanEvery => null;

    public Task<bool?> TryTakeAsync(SpoolId spool) => Task.FromResult<bool?>(true);

    public Task ReleaseAsync(SpoolId spool) => Task.CompletedTask;

    /// <summary>Every spool with rows: one truncated to its last (delivered) row is recovered empty and let go at once.</summary>
    public Task<IReadOnlyList<SpoolId>> UndeliveredSpoolsAsync() => spoolsInFile();

    public event Action<IReadOnlyList<SpoolId>>? Lost
    {
        add { }
        remove { }
    }
}
