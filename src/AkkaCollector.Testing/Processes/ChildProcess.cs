using System.Diagnostics;

namespace AkkaCollector.Testing.Processes;

/// <summary>A process started by a test or the rig: its output captured line by line, signalled and killed by PID only.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<OutputLine> _lines = [];
    private readonly List<(Func<string, bool> Predicate, TaskCompletionSource<string> Found)> _waiters = [];
    private readonly Task _exited;

    private ChildProcess(Process process, string description)
    {
        _process = process;
        Description = description;
        process.OutputDataReceived += (_, e) => Capture(OutputStream.Stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Capture(OutputStream.Stderr, e.Data);
        process.Start();
        Pid = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Completes once the process has exited and both output streams are read to the end.
        _exited = process.WaitForExitAsync();
    }

    /// <summary>The process id, fixed at start.</summary>
    public int Pid { get; }

    /// <summary>Command line, for messages.</summary>
    public string Description { get; }

    /// <summary>True once the process has exited and both output streams are drained.</summary>
    public bool HasExited => _exited.IsCompleted;

    /// <summary>
    /// Starts <c>dotnet DLL ARGS</c>, e.g. the collector binary (<see cref="CollectorBinary.Path"/>), with SIGINT handled
    /// as by default. A shell starts background jobs with SIGINT ignored, children inherit that, and .NET then leaves
    /// Ctrl+C alone: the SIGINT shutdown test failed whenever the suite itself ran as such a job. coreutils' <c>env</c>
    /// resets the disposition and execs dotnet in its own process, so the PID is still the collector's. It runs in the
    /// DLL's folder unless given <paramref name="workingDirectory"/>.
    /// </summary>
    public static ChildProcess StartDotnet(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null) =>
        Start("env", ["--default-signal=INT", "dotnet", dll, .. args], environment, workingDirectory ?? Path.GetDirectoryName(dll));

    /// <summary>
    /// Starts <paramref name="fileName"/> with stdin kept open (close it with <see cref="CloseStandardInput"/>), under a
    /// <see cref="ParentWatch"/>: it is SIGKILLed when this process dies without stopping it.
    /// </summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var arguments = args.ToArray();
        var info = new ProcessStartInfo(ParentWatch.Shell)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in ParentWatch.Arguments(fileName, arguments))
            info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        return new ChildProcess(new Process { StartInfo = info }, $"{fileName} {string.Join(' ', arguments)}");
    }

    /// <summary>Every line written so far, both streams, in arrival order.</summary>
    public IReadOnlyList<OutputLine> Lines
    {
        get
        {
            lock (_gate)
                return _lines.ToArray();
        }
    }

    /// <summary>Everything written so far, one line per line with its stream, for assertion messages.</summary>
    public string Output => Format(Lines);

    /// <summary>The last <paramref name="count"/> lines written so far, as <see cref="Output"/> shows them.</summary>
    public string OutputTail(int count) => Format(Lines.TakeLast(count));

    private static string Format(IEnumerable<OutputLine> lines) => string.Join('\n', lines.Select(line => $"[{line.Stream}] {line.Text}"));

    /// <summary>
    /// Waits for Kestrel's "Now listening on: URL" line and returns the URL: the address of a collector started with
    /// <c>--urls http://127.0.0.1:0</c>, which the kernel gave a free port.
    /// </summary>
    public async Task<Uri> WaitForListeningUrlAsync(TimeSpan timeout)
    {
        const string listening = "Now listening on: ";
        var line = await WaitForLineAsync(text => text.Contains(listening + "http://", StringComparison.Ordinal), timeout);
        return new Uri(line[(line.IndexOf(listening, StringComparison.Ordinal) + listening.Length)..].Trim());
    }

    /// <summary>Waits for a line (stdout or stderr) matching <paramref name="predicate"/>, including lines already seen.</summary>
    /// <exception cref="TimeoutException">No such line in time, or the process exited without writing one.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var seen = _lines.FirstOrDefault(line => predicate(line.Text));
            if (seen is not null)
                return seen.Text;
            _waiters.Add((predicate, found));
        }

        var first = await Task.WhenAny(found.Task, _exited, Task.Delay(timeout));
        if (first == found.Task)
            return await found.Task;
        lock (_gate)
            _waiters.RemoveAll(waiter => waiter.Found == found);
        var why = first == _exited ? $"exited with code {_process.ExitCode}" : $"wrote nothing matching within {timeout}";
        throw new TimeoutException($"{Description} (pid {Pid}) {why}. Output:\n{Output}");
    }

    /// <summary>Sends a signal by PID (<see cref="Signals"/>); false when the process is already gone.</summary>
    public bool SendSignal(int signo) => Signals.Send(Pid, signo);

    /// <summary>SIGKILL: no chance to clean up, like the OOM killer or a lost host.</summary>
    public bool Kill() => SendSignal(Signals.SIGKILL);

    /// <summary>Closes the child's stdin, i.e. the child reads end-of-file.</summary>
    public void CloseStandardInput() => _process.StandardInput.Close();

    /// <summary>Waits for exit and returns the exit code (128+N after signal N).</summary>
    /// <exception cref="TimeoutException">Still running after <paramref name="timeout"/>.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(_exited, Task.Delay(timeout)) != _exited)
            throw new TimeoutException($"{Description} (pid {Pid}) still running after {timeout}. Output:\n{Output}");
        return _process.ExitCode;
    }

    /// <summary>SIGKILLs the process if it is still running, waits for it, and releases it.</summary>
    public void Dispose()
    {
        if (!HasExited)
        {
            Kill();
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    private void Capture(OutputStream stream, string? text)
    {
        lock (_gate)
        {
            if (text is null)
                return;

            _lines.Add(new OutputLine(stream, text));
            foreach (var waiter in _waiters.Where(waiter => waiter.Predicate(text)).ToArray())
            {
                _waiters.Remove(waiter);
                waiter.Found.TrySetResult(text);
            }
        }
    }
}

/// <summary>One captured line of a child's output.</summary>
public sealed record OutputLine(OutputStream Stream, string Text);

/// <summary>Which of a child's output streams a line came from.</summary>
public enum OutputStream
{
    Stdout,
    Stderr,
}
