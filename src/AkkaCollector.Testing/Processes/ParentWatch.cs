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

    private const string Script =
        """
        starter=$PPID; self=$$
        ( (
          while kill -0 "$starter" 2>/dev/null && kill -0 "$self" 2>/dev/null; do sleep 1; done
          kill -0 "$starter" 2>/dev/null || kill -KILL "$self" 2>/dev/null
        ) </dev/null >/dev/null 2>&1 & )
        exec "$@"
        """;

    /// <summary>The shell's arguments that run <paramref name="fileName"/> <paramref name="args"/> under the watchdog.</summary>
    public static IEnumerable<string> Arguments(string fileName, IEnumerable<string> args) => ["-c", Script, "parent-watch", fileName, .. args];
}
