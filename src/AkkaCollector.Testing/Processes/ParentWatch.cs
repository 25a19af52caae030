namespace AkkaCollector.Testing.Processes;

/// <summary>
/// Starts a command so that it dies with the process that started it (a test host or the rig), even when that
/// process is SIGKILLed and runs no clean-up: a shell forks a watchdog, then execs the command in its own place
/// (same PID, so signals and <see cref="ChildProcess.Pid"/> still reach the command itself). The watchdog polls
/// both PIDs once a second; when the starter is gone it SIGKILLs the command by PID, and when the command is gone it
/// simply ends, so it never outlives what it guards by more than a second.
/// </summary>
/// <remarks>
/// Not PR_SET_PDEATHSIG: Linux sends that signal when the starting *thread* ends, and .NET starts processes from
/// pool threads that retire when idle, which would kill healthy children. The watchdog is orphaned on purpose (a
/// subshell of a subshell): it is nobody's child but init's, so neither the command nor the starter must reap it, and
/// it holds none of the command's pipes, so reading the command's output still ends at its exit.
/// </remarks>
public static class ParentWatch
{
    /// <summary>
    /// The program that starts the command: bash, not sh, because dash drops environment variables whose names are not
    /// shell names, and the collector's settings have dots in theirs (<c>Logging__LogLevel__Microsoft.Hosting.Lifetime</c>).
    /// </summary>
    public const string Shell = "/bin/bash";

    // Polls the starter and the target once a second; SIGKILLs the target by PID when the starter is gone first.
    private const string Watch =
        """
        while kill -0 "$starter" 2>/dev/null && kill -0 "$target" 2>/dev/null; do sleep 1; done
        kill -0 "$starter" 2>/dev/null || kill -KILL "$target" 2>/dev/null
        """;

    // The watch forked twice (orphaned, holding none of the command's pipes), then the command in the shell's place.
    private const string WatchThenExec =
        "starter=$PPID; target=$$\n( (\n" + Watch + "\n) </dev/null >/dev/null 2>&1 & )\nexec \"$@\"";

    /// <summary>The shell's arguments that run <paramref name="fileName"/> <paramref name="args"/> under the watchdog.</summary>
    public static IEnumerable<string> Arguments(string fileName, IEnumerable<string> args) => ["-c", WatchThenExec, "parent-watch", fileName, .. args];

    /// <summary>
    /// Watches a process this one did not start directly (a daemon that a child detached, like PostgreSQL's postmaster
    /// from pg_ctl): it is SIGKILLed when this process dies without stopping it.
    /// </summary>
    public static void Guard(int pid)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Shell) { UseShellExecute = false };
        foreach (var argument in new[] { "-c", "starter=$PPID; target=$1\n" + Watch, "parent-watch", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        // The watch ends on its own within a second of the target; kept until then, so that the runtime reaps it.
        var watch = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"{Shell} did not start.");
        _ = watch.WaitForExitAsync().ContinueWith(_ => watch.Dispose(), TaskScheduler.Default);
    }
}
