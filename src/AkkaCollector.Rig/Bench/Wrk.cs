using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Rig.Bench;

/// <summary>What one wrk run reported (its script's <c>done()</c> line), latencies in microseconds.</summary>
public sealed record WrkResult(
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("duration_us")] long DurationMicros,
    [property: JsonPropertyName("non2xx")] long Non2xx,
    [property: JsonPropertyName("connect")] long ConnectErrors,
    [property: JsonPropertyName("read")] long ReadErrors,
    [property: JsonPropertyName("write")] long WriteErrors,
    [property: JsonPropertyName("timeout")] long Timeouts,
    [property: JsonPropertyName("p50_us")] long P50Micros,
    [property: JsonPropertyName("p90_us")] long P90Micros,
    [property: JsonPropertyName("p99_us")] long P99Micros,
    [property: JsonPropertyName("max_us")] long MaxMicros)
{
    public TimeSpan Duration => TimeSpan.FromTicks(DurationMicros * 10);

    /// <summary>Requests answered 2xx (wrk counts every answered request, and non-2xx answers separately).</summary>
    public long Succeeded => Requests - Non2xx;

    public long SocketErrors => ConnectErrors + ReadErrors + WriteErrors + Timeouts;
}

/// <summary>One load run of <c>wrk</c> (Debian's) with the bench script, bounded by its duration; cancelling stops it early (SIGINT, wrk still reports).</summary>
/// <param name="Connections">Connections held open.</param>
/// <param name="Rate">Requests per second over all threads, on a clock; 0 sends as fast as answers come.</param>
public sealed record WrkLoad(Uri Target, string BodiesFile, int Connections, TimeSpan Duration, double Rate = 0)
{
    /// <summary>wrk threads: one per core, the machine's cores being shared with the collector anyway.</summary>
    public static int Threads => Math.Max(1, Environment.ProcessorCount);

    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Bench", "wrk-bench.lua");
    private const string ResultPrefix = "BENCH ";

    /// <summary>Runs wrk to its end and returns its report, and the wrk process's CPU time.</summary>
    public async Task<(WrkResult Result, TimeSpan Cpu)> RunAsync(CancellationToken cancellationToken)
    {
        var threads = Math.Min(Threads, Connections);
        var environment = new Dictionary<string, string>
        {
            ["BENCH_BODIES"] = BodiesFile,
            ["BENCH_RATE"] = (Rate / threads).ToString("0.###", CultureInfo.InvariantCulture),
        };
        var seconds = Math.Max(1, (int)Math.Ceiling(Duration.TotalSeconds));
        using var wrk = ChildProcess.Start("wrk",
            ["-t", $"{threads}", "-c", $"{Connections}", "-d", $"{seconds}s", "--timeout", "10s", "-s", Script, Target.ToString()], environment);
        var probe = new ProcessProbe(wrk.Pid);
        var cpu = TimeSpan.Zero;
        using (cancellationToken.Register(() => wrk.SendSignal(Signals.SIGINT)))
        {
            // Sample while it runs: once it has exited, /proc no longer has it.
            var exited = wrk.WaitForExitAsync(Duration + TimeSpan.FromSeconds(30));
            while (await Task.WhenAny(exited, Task.Delay(200, CancellationToken.None)) != exited)
                cpu = probe.CpuTime() ?? cpu;
            var code = await exited;
            if (code != 0)
                throw new InvalidOperationException($"wrk exited with {code}:\n{wrk.Output}");
        }
        var line = wrk.Lines.Select(l => l.Text).LastOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"wrk printed no result line:\n{wrk.Output}");
        return (JsonSerializer.Deserialize<WrkResult>(line[ResultPrefix.Length..]) ?? throw new InvalidOperationException(line), cpu);
    }
}
