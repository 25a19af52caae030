using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaCollector.Testing.Processes;
using StackExchange.Redis;

namespace AkkaCollector.Testing.Redis;

/// <summary>A command Redis logged in its SLOWLOG.</summary>
public sealed record SlowCommand(TimeSpan Duration, string Command);

/// <summary>One line of INFO commandstats: a command, how often it ran, and Redis's own mean time per call.</summary>
public sealed record CommandCost(string Name, long Calls, double MicrosPerCall)
{
    /// <summary>Parses "calls=3672,usec=63054,usec_per_call=17.17,..." for the command <paramref name="name"/>.</summary>
    public static CommandCost Parse(string name, string stats)
    {
        var fields = stats.Split(',').Select(field => field.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
        return new CommandCost(name, long.Parse(fields["calls"], CultureInfo.InvariantCulture),
            double.Parse(fields["usec_per_call"], CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// A private redis-server (Debian's, from PATH) on a free loopback port, without persistence. Faults: <see cref="Pause"/>
/// (SIGSTOP: connections stay open and nothing answers, like a black hole), <see cref="Kill"/> (connections refused),
/// <see cref="Restart"/> on the same port. Disposing kills the process by its PID.
/// </summary>
/// <remarks>
/// SLOWLOG measures a command's wall-clock time, so on a machine whose few cores are shared with busy neighbours it
/// logs an O(1) GET as taking 50 ms whenever the kernel preempts redis-server in the middle of it (measured here under
/// a load average of 15 on 2 cores). So the server runs in a session of its own (setsid), which the kernel schedules
/// as its own group, and that group gets a higher priority (nice -10, when the tests may: root or CAP_SYS_NICE). As on
/// a dedicated Redis host, SLOWLOG then measures what a command costs, not what the neighbours cost. Redis is idle
/// but for microseconds per command, so the priority takes nothing from anyone.
/// </remarks>
public sealed class RedisServerProcess : IDisposable
{
    private const string Niceness = "-10";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly string[] _extraArguments;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private RedisServerProcess(int port, string[] extraArguments)
    {
        Port = port;
        _extraArguments = extraArguments;
    }

    public int Port { get; }

    /// <summary>host:port, as a StackExchange.Redis configuration string wants it.</summary>
    public string EndPoint => $"127.0.0.1:{Port}";

    /// <summary>The PID of the running server; 0 when killed.</summary>
    public int Pid => _process is { HasExited: false } process ? process.Id : 0;

    /// <summary>Starts redis-server on a free port and waits until it answers PING. Extra arguments are redis-server options.</summary>
    public static RedisServerProcess Start(params string[] extraArguments)
    {
        var server = new RedisServerProcess(LoopbackPort.Free(), extraArguments);
        server.Launch();
        return server;
    }

    /// <summary>SIGSTOP: the server keeps its sockets but answers nothing.</summary>
    public void Pause() => Signal(Signals.SIGSTOP);

    /// <summary>SIGCONT: the server answers again, including what it received while paused.</summary>
    public void Resume() => Signal(Signals.SIGCONT);

    /// <summary>SIGKILL, and waits for the exit: new connections are refused from then on.</summary>
    public void Kill()
    {
        if (_process is null)
            return;
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Kills the server if it runs, then starts a fresh, empty one on the same port.</summary>
    public void Restart()
    {
        Kill();
        Launch();
    }

    /// <summary>Entries of SLOWLOG GET (the last 1024) that took longer than <paramref name="micros"/> microseconds.</summary>
    public IReadOnlyList<SlowCommand> SlowlogEntriesOver(long micros)
    {
        using var connection = ConnectAdmin();
        return connection.GetServer(EndPoint).SlowlogGet(1024)
            .Where(entry => entry.Duration.TotalMicroseconds > micros)
            .Select(entry => new SlowCommand(entry.Duration, string.Join(' ', entry.Arguments.Select(a => a.ToString()))))
            .ToList();
    }

    /// <summary>
    /// Every command the server has run since it started, from INFO commandstats: its name in lower case (a subcommand as
    /// "client|id"), how often it ran and its mean time per call in microseconds.
    /// </summary>
    public IReadOnlyList<CommandCost> CommandCosts()
    {
        using var connection = ConnectAdmin();
        return connection.GetServer(EndPoint).Info("commandstats")
            .SelectMany(group => group)
            .Where(pair => pair.Key.StartsWith("cmdstat_", StringComparison.Ordinal))
            .Select(pair => CommandCost.Parse(pair.Key["cmdstat_".Length..], pair.Value))
            .ToList();
    }

    // SLOWLOG and INFO are admin commands.
    private ConnectionMultiplexer ConnectAdmin() => ConnectionMultiplexer.Connect(new ConfigurationOptions
    {
        EndPoints = { EndPoint },
        AllowAdmin = true,
        ConnectTimeout = 2000,
    });

    public void Dispose()
    {
        if (_process is { HasExited: false })
            Signal(Signals.SIGCONT);
        Kill();
    }

    private void Launch()
    {
        // setsid execs redis-server in place (same PID): a child of this process is never a process group leader.
        // The parent watch kills it if this process dies without disposing it (a SIGKILLed rig or test host).
        var start = new ProcessStartInfo(ParentWatch.Shell)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in ParentWatch.Arguments("setsid", new[]
                 {
                     "redis-server", "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--daemonize", "no", "--dir", Path.GetTempPath(),
                     // Log everything above 1 ms so that a test can see how close commands come to the 10 ms bar.
                     "--slowlog-log-slower-than", "1000", "--slowlog-max-len", "1024",
                 }.Concat(_extraArguments)))
            start.ArgumentList.Add(argument);
        // Without setsid (util-linux) or redis-server on PATH the shell says so, and WaitForPing shows its output.
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, line) => Remember(line.Data);
        process.ErrorDataReceived += (_, line) => Remember(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        WaitForPing();
        RaisePriority(process.Id);
    }

    /// <summary>Best effort: without the privilege the server keeps the normal priority, and SLOWLOG may include preemption.</summary>
    private static void RaisePriority(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/autogroup", Niceness);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not allowed here (or no autogroup scheduling): nothing else to do.
        }
    }

    private void WaitForPing()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process is null || _process.HasExited)
                break;
            if (AnswersPing(TimeSpan.FromSeconds(1)))
                return;
            Thread.Sleep(20);
        }
        var output = Output();
        Kill();
        throw new InvalidOperationException($"redis-server on port {Port} did not answer PING within {StartTimeout}. Output:\n{output}");
    }

    /// <summary>
    /// True when the server answers PING on a fresh connection within <paramref name="within"/>; false when it does not
    /// (stalled by a slow command, paused, or gone).
    /// </summary>
    public bool AnswersPing(TimeSpan within)
    {
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(IPAddress.Loopback, Port);
            socket.ReceiveTimeout = (int)within.TotalMilliseconds;
            socket.Send("PING\r\n"u8);
            var buffer = new byte[16];
            var read = socket.Receive(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Signal(int signal)
    {
        if (_process is not { HasExited: false } process)
            throw new InvalidOperationException("redis-server is not running.");
        if (!Signals.Send(process.Id, signal))
            throw new InvalidOperationException($"redis-server (pid {process.Id}) is gone: kill({process.Id}, {signal}) found no such process.");
    }

    private void Remember(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    private string Output()
    {
        lock (_output)
            return _output.ToString();
    }
}
