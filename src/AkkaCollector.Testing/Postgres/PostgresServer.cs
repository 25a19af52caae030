using System.Runtime.InteropServices;
using AkkaCollector.Testing.Processes;
using Npgsql;

namespace AkkaCollector.Testing.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster (Debian's <c>postgresql</c> package): initdb into a temporary folder, started on
/// a free loopback port with its unix socket in that folder, stopped by PID and deleted on dispose. Never touches a
/// system service. Run as root, the server runs as the <c>postgres</c> user (PostgreSQL refuses to run as root).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string BinariesRoot = "/usr/lib/postgresql";
    private const string ServiceUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly string _folder;
    private readonly string _bin;

    private PostgresServer(string folder, string bin, int port, int pid)
    {
        _folder = folder;
        _bin = bin;
        Port = port;
        Pid = pid;
    }

    /// <summary>The loopback TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The postmaster's process id (from postmaster.pid); a restart changes it.</summary>
    public int Pid { get; private set; }

    /// <summary>
    /// Connection string for <paramref name="database"/> as the superuser (trust authentication on loopback). Unpooled
    /// by default, so a test's connections end with it; <paramref name="pooled"/> for a collector whose speed is measured
    /// (unpooled, every journal write opens a connection of its own).
    /// </summary>
    public string ConnectionString(string database, bool pooled = false) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = ServiceUser, Database = database, Pooling = pooled }.ToString();

    /// <summary>Creates the cluster, starts it and returns once it accepts connections.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        var bin = await LocateBinariesAsync();
        var folder = Directory.CreateTempSubdirectory("akkacollector-pg-").FullName;
        try
        {
            var runAsServiceUser = geteuid() == 0;
            if (runAsServiceUser)
                await RunAsync("chown", [$"{ServiceUser}:{ServiceUser}", folder]);

            var data = Path.Combine(folder, "data");
            // --no-sync: a throwaway cluster need not survive a host crash, only a crash of its clients.
            await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", ServiceUser, "--auth=trust", "-E", "UTF8", "--no-sync"], runAsServiceUser);

            var port = LoopbackPort.Free();
            return new PostgresServer(folder, bin, port, await StartServerAsync(bin, folder, port));
        }
        catch
        {
            StopLeftoverServer(folder);
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Stops the server (fast shutdown: every session is ended, as in a failover or a restart for maintenance) and starts
    /// it again on the same port and data; returns once it accepts connections.
    /// </summary>
    public async Task RestartAsync()
    {
        await RunAsync(Path.Combine(_bin, "pg_ctl"), ["stop", "-D", Path.Combine(_folder, "data"), "-m", "fast", "-w", "-t", "30"], geteuid() == 0);
        Pid = await StartServerAsync(_bin, _folder, Port);
    }

    private static async Task<int> StartServerAsync(string bin, string folder, int port)
    {
        var data = Path.Combine(folder, "data");
        await RunAsync(Path.Combine(bin, "pg_ctl"),
            ["start", "-D", data, "-w", "-t", "30", "-l", Path.Combine(folder, "server.log"),
             "-o", $"-p {port} -k {folder} -c listen_addresses=127.0.0.1"], geteuid() == 0);
        var pid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First());
        // pg_ctl detached the server: it is nobody's child here, so it gets a watch of its own.
        ParentWatch.Guard(pid);
        return pid;
    }

    /// <summary>Creates an empty database and returns its connection string (<see cref="ConnectionString"/>).</summary>
    public async Task<string> CreateDatabaseAsync(string name, bool pooled = false)
    {
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name, pooled);
    }

    /// <summary>Runs one scalar query against <paramref name="database"/>.</summary>
    public async Task<T> QueryScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Fast shutdown (SIGINT) by PID, SIGKILL if it outlives the stop timeout, then deletes the cluster's folder.</summary>
    public async ValueTask DisposeAsync()
    {
        Signals.Send(Pid, Signals.SIGINT);
        if (!await WaitForExitAsync(Pid, StopTimeout))
        {
            Signals.Send(Pid, Signals.SIGKILL);
            await WaitForExitAsync(Pid, StopTimeout);
        }
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The newest installed major version's bin folder; installs Debian's postgresql first when none is (root only).</summary>
    private static async Task<string> LocateBinariesAsync()
    {
        if (NewestBinaries() is { } found)
            return found;
        if (geteuid() != 0)
            throw new InvalidOperationException($"PostgreSQL is not installed (no {BinariesRoot}/*/bin/initdb); run: apt-get install -y postgresql");
        await RunAsync("apt-get", ["install", "-y", "--no-install-recommends", "postgresql"], timeout: TimeSpan.FromMinutes(10));
        return NewestBinaries() ?? throw new InvalidOperationException($"apt-get installed postgresql but {BinariesRoot}/*/bin/initdb is still missing");
    }

    private static string? NewestBinaries() =>
        Directory.Exists(BinariesRoot)
            ? Directory.GetDirectories(BinariesRoot)
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var major) ? major : 0)
                .FirstOrDefault()
            : null;

    private static async Task RunAsync(string fileName, string[] args, bool runAsServiceUser = false, TimeSpan? timeout = null)
    {
        // runuser keeps no session of its own around the command: pg_ctl detaches the server and returns.
        using var process = runAsServiceUser
            ? ChildProcess.Start("runuser", ["-u", ServiceUser, "--", fileName, .. args])
            : ChildProcess.Start(fileName, args);
        process.CloseStandardInput();
        var exitCode = await process.WaitForExitAsync(timeout ?? CommandTimeout);
        if (exitCode != 0)
            throw new InvalidOperationException($"{process.Description} exited with {exitCode}:\n{process.Output}");
    }

    /// <summary>After a failed start: a server that did come up must not outlive its deleted folder.</summary>
    private static void StopLeftoverServer(string folder)
    {
        var pidFile = Path.Combine(folder, "data", "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
        {
            Signals.Send(pid, Signals.SIGKILL);
            WaitForExitAsync(pid, StopTimeout).GetAwaiter().GetResult();
        }
    }

    /// <summary>Polls until the process is gone; the postmaster is not our child (pg_ctl detached it), so there is nothing to wait on.</summary>
    private static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsRunning(pid))
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(50);
        }
        return true;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            // A zombie has exited; only its parent's wait is missing.
            return !File.ReadLines($"/proc/{pid}/status").Any(line => line.StartsWith("State:", StringComparison.Ordinal) && line.Contains('Z'));
        }
        catch (IOException)
        {
            return false;
        }
    }

    [DllImport("libc")]
    private static extern uint geteuid();
}
