using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Spooling;

/// <summary>
/// Checkpoints the SQLite journal's WAL from a connection of its own, every Spool:SqliteCheckpointInterval, so that
/// journal writes do not carry SQLite's automatic checkpoint (it runs in the commit that crosses its threshold, and the
/// group commits queued behind that write wait for the copy and its syncs). PASSIVE: it copies what no reader still
/// needs and never takes the writer's lock, so writes go on beside it; the WAL restarts at the first write that finds
/// it fully copied. The journal connections keep an automatic checkpoint at <see cref="BackstopPages"/> (see
/// <see cref="SqliteJournalTuning"/>) for when writes never leave such a gap.
/// </summary>
public sealed partial class SqliteCheckpointer(IOptions<SpoolOptions> options, ILogger<SqliteCheckpointer> logger) : BackgroundService
{
    /// <summary>
    /// WAL pages (4 KiB) past which a journal write checkpoints itself: 4x SQLite's default, so it is reached only when
    /// the background checkpoints fell behind; a WAL of 16 MiB is still read in well under a second on a restart.
    /// </summary>
    public const int BackstopPages = 4000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var spool = options.Value;
        if (spool.Provider != "sqlite")
            return;
        await using var connection = new SqliteConnection(SpoolJournalConfig.SqliteConnectionString(spool));
        await connection.OpenAsync(stoppingToken);
        await using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        using var timer = new PeriodicTimer(spool.SqliteCheckpointInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await checkpoint.ExecuteNonQueryAsync(stoppingToken);
                }
                catch (SqliteException e)
                {
                    // Not fatal: the journal's automatic checkpoint at BackstopPages still bounds the WAL.
                    LogCheckpointFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpointing the spool's WAL failed; the journal's own checkpoint bounds it meanwhile")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception exception);
}
