using System.Runtime.InteropServices;

namespace AkkaCollector.Testing.Processes;

/// <summary>Linux signal numbers and <c>kill(2)</c>, so fixtures signal exactly the process they started, by PID.</summary>
public static class Signals
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGSEGV = 11;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    /// <summary>Sends <paramref name="signo"/> to <paramref name="pid"/>; false when the process no longer exists.</summary>
    public static bool Send(int pid, int signo)
    {
        if (kill(pid, signo) == 0)
            return true;
        var errno = Marshal.GetLastPInvokeError();
        const int NoSuchProcess = 3; // ESRCH
        return errno == NoSuchProcess
            ? false
            : throw new InvalidOperationException($"kill({pid}, {signo}) failed with errno {errno}.");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
