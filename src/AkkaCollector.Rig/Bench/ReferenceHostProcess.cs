using System.Globalization;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// A reference host (<see cref="NoopHostVerb"/>, <see cref="FloorHostVerb"/>) in a process of its own, run with the
/// collector's runtime settings (server GC, invariant globalization), so its CPU and memory are measured apart from the
/// collector's, as the collector's are. Disposing stops it by PID.
/// </summary>
internal sealed class ReferenceHostProcess : IDisposable
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);
    private readonly ChildProcess _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private ReferenceHostProcess(ChildProcess process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        Probe = new ProcessProbe(process.Pid);
    }

    public Uri BaseUrl { get; }

    public ProcessProbe Probe { get; }

    public int Pid => _process.Pid;

    public Uri EventUrl => new(BaseUrl, ReferenceHost.EventPath);

    /// <summary>Starts the rig's <paramref name="verb"/> with <paramref name="args"/> and <c>--urls</c> on a free port; returns once it answers.</summary>
    public static async Task<ReferenceHostProcess> StartAsync(string verb, IReadOnlyList<string> args, CancellationToken stop)
    {
        var baseUrl = new Uri($"http://127.0.0.1:{LoopbackPort.Free()}");
        var process = ChildProcess.StartDotnet(typeof(ReferenceHostProcess).Assembly.Location, [verb, "--urls", baseUrl.ToString(), .. args],
            new Dictionary<string, string> { ["DOTNET_gcServer"] = "1", ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" });
        var host = new ReferenceHostProcess(process, baseUrl);
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(stop);
            bound.CancelAfter(StartBound);
            while (true)
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"The {verb} exited at start:\n{process.Output}");
                try
                {
                    await host.JitSecondsAsync(bound.Token);
                    return host;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100, bound.Token);
                }
            }
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>How long the host's JIT has compiled so far: the warm-up stops once a round adds next to nothing.</summary>
    public async Task<double> JitSecondsAsync(CancellationToken stop) =>
        double.Parse(await _http.GetStringAsync(new Uri(BaseUrl, ReferenceHost.JitPath), stop), CultureInfo.InvariantCulture);

    /// <summary>SIGKILL by PID: the no-op host holds nothing, and the floor's journal is thrown away.</summary>
    public void Dispose()
    {
        _http.Dispose();
        _process.Dispose();
    }
}
