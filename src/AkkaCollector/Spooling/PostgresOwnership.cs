using System.Diagnostics;
using Npgsql;

namespace AkkaCollector.Spooling;

/// <summary>
/// Ownership of spools in a shared PostgreSQL journal: one session-level advisory lock per spool (keyed by
/// hashtextextended of its persistence id), all held on one dedicated connection of this collector.
/// <list type="bullet">
/// <item>A collector that dies (kill -9, crash) resets its TCP connection: the server ends the session and its locks are
/// free at once. One that is paused or cut off keeps the TCP session open, so the session is told to end itself after
/// TakeoverAfter / 2 without a statement (<c>idle_session_timeout</c>); the owner pings every TakeoverAfter / 8.</item>
/// <item>The owner's claims are a lease: valid until the start of its last successful statement plus the idle timeout
/// (no server can have ended the session earlier). Spoolers check it before each write and hand-over, so a process
/// that wakes after a long pause does neither before it learns its session is gone.</item>
/// <item>A lost session loses every lock at once. The spoolers pause (the lease has lapsed) and keep their state; the
/// next session claims every spool again. Survivors take nothing over during TakeoverAfter / 2 after they (re)connect,
/// so after a database restart the live owners, who re-claim within a second or two, get their own spools back and
/// resume. A spool somebody took over meanwhile (this collector was cut off or paused) is <see cref="Lost"/>.</item>
/// </list>
/// </summary>
public sealed class PostgresOwnership : ISpoolOwnership, IDisposable
{
    private readonly string _connectionString;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _pingEvery;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<SpoolId> _held = [];
    private readonly CancellationTokenSource _stop = new();
    private NpgsqlConnection? _session;
    /// <summary>The first connection attempt: claims wait for it, so a collector's first claims are not refused for want of a session.</summary>
    private readonly Task _firstAttempt;
    private long _leaseUntil;
    private long _connectedAt;

    public PostgresOwnership(SpoolOptions options, ILogger logger)
    {
        _idleTimeout = options.TakeoverAfter / 2;
        _pingEvery = options.TakeoverAfter / 8;
        ScanEvery = options.TakeoverAfter / 4;
        _logger = logger;
        var commandSeconds = Math.Max(1, (int)_pingEvery.TotalSeconds);
        _connectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            // Its own session, never a pooled one: the locks live and die with it.
            Pooling = false,
            Timeout = commandSeconds,
            CommandTimeout = commandSeconds,
            ApplicationName = $"akkacollector-spool-locks {options.InstanceId}",
        }.ToString();
        _firstAttempt = Task.Run(ConnectAsync);
        _ = Task.Run(KeepSessionAsync);
    }

    public bool Holds => Stopwatch.GetTimestamp() < Volatile.Read(ref _leaseUntil);

    public bool MayTakeOver => Holds && Stopwatch.GetElapsedTime(Volatile.Read(ref _connectedAt)) >= _idleTimeout;

    public TimeSpan? ScanEvery { get; }

    public event Action<IReadOnlyList<SpoolId>>? Lost;

    // Advisory locks nest within a session: taking one twice would need two releases. One claim per spool.
    public async Task<bool?> TryTakeAsync(SpoolId spool)
    {
        await _firstAttempt;
        return await OnSessionAsync<bool?>(async session => !_held.Contains(spool) && await TakeAsync(session, spool), null);
    }

    private async Task<bool> TakeAsync(NpgsqlConnection session, SpoolId spool)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended(@id, 0))", session);
        command.Parameters.AddWithValue("id", spool.PersistenceId);
        var taken = (bool)(await command.ExecuteScalarAsync(_stop.Token))!;
        if (taken)
            _held.Add(spool);
        return taken;
    }

    public Task ReleaseAsync(SpoolId spool) => OnSessionAsync(async session =>
    {
        if (!_held.Remove(spool))
            return true;
        await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended(@id, 0))", session);
        command.Parameters.AddWithValue("id", spool.PersistenceId);
        await command.ExecuteScalarAsync(_stop.Token);
        return true;
    }, true);

    public Task<IReadOnlyList<SpoolId>> UndeliveredSpoolsAsync() => OnSessionAsync<IReadOnlyList<SpoolId>>(async session =>
    {
        // Truncation marks the last delivered row deleted and removes the rest: a spool with a row not marked is undelivered.
        await using var command = new NpgsqlCommand("SELECT DISTINCT persistence_id FROM journal WHERE NOT deleted", session);
        var spools = new List<SpoolId>();
        await using var reader = await command.ExecuteReaderAsync(_stop.Token);
        while (await reader.ReadAsync(_stop.Token))
        {
            if (SpoolId.Parse(reader.GetString(0)) is { } spool)
                spools.Add(spool);
        }
        return spools;
    }, []);

    /// <summary>Runs one statement on the session, renewing the lease on success; a failure ends the session and every claim.</summary>
    private async Task<T> OnSessionAsync<T>(Func<NpgsqlConnection, Task<T>> statement, T whenNoSession)
    {
        await _gate.WaitAsync(_stop.Token);
        try
        {
            if (_session is null)
                return whenNoSession;
            var started = Stopwatch.GetTimestamp();
            var result = await statement(_session);
            Volatile.Write(ref _leaseUntil, started + (long)(_idleTimeout.TotalSeconds * Stopwatch.Frequency));
            return result;
        }
        catch (Exception e) when ((e is NpgsqlException or InvalidOperationException or TimeoutException) && !_stop.IsCancellationRequested)
        {
            EndSession(e);
            return whenNoSession;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Connects (again) when there is no session, else pings it, every TakeoverAfter / 8.</summary>
    private async Task KeepSessionAsync()
    {
        await _firstAttempt;
        while (!_stop.IsCancellationRequested)
        {
            if (_session is null)
                await ConnectAsync();
            else
                await OnSessionAsync(async session =>
                {
                    await using var ping = new NpgsqlCommand("SELECT 1", session);
                    return await ping.ExecuteScalarAsync(_stop.Token);
                }, null);
            try
            {
                await Task.Delay(_session is null ? TimeSpan.FromSeconds(1) : _pingEvery, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ConnectAsync()
    {
        await _gate.WaitAsync(_stop.Token);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var session = new NpgsqlConnection(_connectionString);
            IReadOnlyList<SpoolId> lost;
            try
            {
                await session.OpenAsync(_stop.Token);
                await using var timeout = new NpgsqlCommand($"SET idle_session_timeout = {(long)_idleTimeout.TotalMilliseconds}", session);
                await timeout.ExecuteNonQueryAsync(_stop.Token);
                lost = await ClaimAgainAsync(session);
            }
            catch (Exception e) when ((e is NpgsqlException or TimeoutException) && !_stop.IsCancellationRequested)
            {
                await session.DisposeAsync();
                _logger.LogWarning("Spool locks: cannot open the lock session ({Reason}); retrying in 1 s", e.Message);
                return;
            }
            _session = session;
            Volatile.Write(ref _connectedAt, Stopwatch.GetTimestamp());
            Volatile.Write(ref _leaseUntil, started + (long)(_idleTimeout.TotalSeconds * Stopwatch.Frequency));
            _logger.LogInformation("Spool locks: session open (ends itself after {IdleTimeout} without a ping); {Claimed} spools claimed again, {Lost} taken over by others; taking spools over from {Grace} on",
                _idleTimeout, _held.Count, lost.Count, _idleTimeout);
            if (lost.Count > 0)
                Lost?.Invoke(lost);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A new session claims what the last one held; what somebody else holds now was taken over meanwhile.</summary>
    private async Task<IReadOnlyList<SpoolId>> ClaimAgainAsync(NpgsqlConnection session)
    {
        var wanted = _held.ToList();
        _held.Clear();
        var lost = new List<SpoolId>();
        try
        {
            foreach (var spool in wanted)
            {
                if (!await TakeAsync(session, spool))
                    lost.Add(spool);
            }
        }
        catch
        {
            // This session failed too: the next one claims them all again.
            _held.UnionWith(wanted);
            throw;
        }
        return lost;
    }

    private void EndSession(Exception cause)
    {
        Volatile.Write(ref _leaseUntil, 0);
        _logger.LogWarning("Spool locks: the lock session ended ({Reason}); the {Count} spools it held pause (no writes, no hand-overs) until a new session claims them again",
            cause.Message, _held.Count);
        _session?.Dispose();
        _session = null;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _session?.Dispose();
    }
}
