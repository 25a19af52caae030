using System.Diagnostics;
using AkkaCollector.Observability;
using Prometheus;

namespace AkkaCollector.Tests.Observability;

/// <summary>The process gauges are process-wide: these tests run alone so that no other scrape rewrites them mid-test.</summary>
[CollectionDefinition(nameof(ProcessMetricsTests), DisableParallelization = true)]
[Collection(nameof(ProcessMetricsTests))]
public sealed class ProcessMetricsTests : IDisposable
{
    // No gauge set here can be negative: a mark that only a collection overwrites.
    private const int Unset = -1;

    private readonly DirectoryInfo _proc = Directory.CreateTempSubdirectory("proc-sample-");

    public void Dispose() => _proc.Delete(recursive: true);

    [Fact]
    public void Should_publish_sockets_by_state_and_ephemeral_ports_for_the_namespace_and_for_this_process()
    {
        var files = WriteSampleProc(portRange: "32768\t60999\n");
        // This process holds the listener (fd 3) and the connection to Kafka (fd 7); fd 4 is a file, fd 5 a pipe.
        Link(files, "3", "socket:[244599]");
        Link(files, "4", "/tmp/spool/journal.db");
        Link(files, "5", "pipe:[300001]");
        Link(files, "7", "socket:[244600]");

        CollectNow(files);

        Assert.Equal(2, CollectorMetrics.TcpSockets.WithLabels("namespace", "established").Value);
        Assert.Equal(1, CollectorMetrics.TcpSockets.WithLabels("namespace", "time_wait").Value);
        Assert.Equal(1, CollectorMetrics.TcpSockets.WithLabels("process", "listen").Value);
        Assert.Equal(1, CollectorMetrics.TcpSockets.WithLabels("process", "established").Value);
        Assert.Equal(0, CollectorMetrics.TcpSockets.WithLabels("process", "time_wait").Value);
        Assert.Equal(3, CollectorMetrics.EphemeralPortsInUse.WithLabels("namespace").Value);
        Assert.Equal(1, CollectorMetrics.EphemeralPortsInUse.WithLabels("process").Value);
        Assert.Equal(32768, CollectorMetrics.EphemeralPortRange.WithLabels("first").Value);
        Assert.Equal(60999, CollectorMetrics.EphemeralPortRange.WithLabels("last").Value);
    }

    [Fact]
    public void Should_still_publish_runtime_metrics_when_proc_cannot_be_read()
    {
        var missing = new ProcFiles(Path.Combine(_proc.FullName, "none", "tcp"), Path.Combine(_proc.FullName, "none", "tcp6"),
            Path.Combine(_proc.FullName, "none", "range"), Path.Combine(_proc.FullName, "none", "fd"));
        // The gauges are process-wide and a sibling test may have set them: marks that only a collection overwrites.
        CollectorMetrics.ThreadPoolThreads.Set(Unset);
        CollectorMetrics.GcHeapBytes.WithLabels("committed").Set(Unset);
        // The counters only grow, to the runtime's own totals: at least what the runtime says now.
        var (completed, allocated, compiled) = (ThreadPool.CompletedWorkItemCount, GC.GetTotalAllocatedBytes(), System.Runtime.JitInfo.GetCompiledMethodCount());

        var collect = Record.Exception(() => CollectNow(missing));

        Assert.Null(collect);
        Assert.True(CollectorMetrics.ThreadPoolThreads.Value >= 1, $"thread pool threads {CollectorMetrics.ThreadPoolThreads.Value}");
        Assert.True(CollectorMetrics.GcHeapBytes.WithLabels("committed").Value > 0, "the committed heap was not collected");
        Assert.True(CollectorMetrics.ThreadPoolCompletedItems.Value >= completed, $"completed items {CollectorMetrics.ThreadPoolCompletedItems.Value} < {completed}");
        Assert.True(CollectorMetrics.GcAllocatedBytes.Value >= allocated, $"allocated bytes {CollectorMetrics.GcAllocatedBytes.Value} < {allocated}");
        Assert.True(CollectorMetrics.JitCompiledMethods.Value >= compiled, $"compiled methods {CollectorMetrics.JitCompiledMethods.Value} < {compiled}");
    }

    [Fact]
    public async Task Should_collect_process_metrics_when_the_registry_is_scraped()
    {
        ProcessMetrics.Register(Metrics.DefaultRegistry);
        // Series a sibling test may have created and set: marks that only the scrape's own collection overwrites.
        CollectorMetrics.ThreadPoolThreads.Set(Unset);
        CollectorMetrics.GcHeapBytes.WithLabels("committed").Set(Unset);
        using var scraped = new MemoryStream();

        await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(scraped);

        var text = System.Text.Encoding.UTF8.GetString(scraped.ToArray());
        foreach (var series in new[] { "collector_threadpool_threads ", """collector_gc_heap_bytes{kind="committed"} """ })
        {
            Assert.Contains(series, text);
            Assert.DoesNotContain($"{series}{Unset}", text);
        }
        // The socket census may have been taken by a scrape seconds ago (it is taken at most every 5 s): present, not necessarily fresh.
        var firstPort = ProcNetTcp.TryParsePortRange(File.ReadAllText(ProcFiles.Self.PortRange), out var range) ? range.First : -2;
        Assert.Contains($"collector_ephemeral_port_range{{bound=\"first\"}} {firstPort}\n", text);
        Assert.Contains("""collector_tcp_sockets{scope="process",state="listen"} """, text);
        Assert.Contains("collector_gc_pause_seconds_total ", text);
        Assert.Contains("collector_jit_compilation_seconds_total ", text);
    }

    [Fact]
    public void Should_take_the_socket_census_at_most_once_per_interval_however_often_it_is_scraped()
    {
        var files = WriteSampleProc(portRange: "32768\t60999\n");
        var census = new CensusSchedule(ProcessMetrics.SocketCensusEvery);
        var start = Stopwatch.GetTimestamp();
        ProcessMetrics.CollectOnScrape(files, census, start);
        Assert.Equal(2, CollectorMetrics.TcpSockets.WithLabels("namespace", "established").Value);

        CollectorMetrics.TcpSockets.WithLabels("namespace", "established").Set(Unset);
        CollectorMetrics.ThreadPoolThreads.Set(Unset);
        ProcessMetrics.CollectOnScrape(files, census, start + Ticks(ProcessMetrics.SocketCensusEvery * 0.9));
        Assert.Equal(Unset, CollectorMetrics.TcpSockets.WithLabels("namespace", "established").Value);
        Assert.True(CollectorMetrics.ThreadPoolThreads.Value >= 1, "the runtime's gauges are collected on every scrape");

        ProcessMetrics.CollectOnScrape(files, census, start + Ticks(ProcessMetrics.SocketCensusEvery));
        Assert.Equal(2, CollectorMetrics.TcpSockets.WithLabels("namespace", "established").Value);
    }

    private static long Ticks(TimeSpan elapsed) => (long)(elapsed.TotalSeconds * Stopwatch.Frequency);

    /// <summary>One scrape's collection, the socket census due.</summary>
    private static void CollectNow(ProcFiles files) =>
        ProcessMetrics.CollectOnScrape(files, new CensusSchedule(ProcessMetrics.SocketCensusEvery), Stopwatch.GetTimestamp());

    private ProcFiles WriteSampleProc(string portRange)
    {
        var files = new ProcFiles(Path.Combine(_proc.FullName, "tcp"), Path.Combine(_proc.FullName, "tcp6"),
            Path.Combine(_proc.FullName, "ip_local_port_range"), Path.Combine(_proc.FullName, "fd"));
        File.WriteAllText(files.Tcp, ProcNetTcpTests.Tcp);
        File.WriteAllText(files.Tcp6, ProcNetTcpTests.Tcp6);
        File.WriteAllText(files.PortRange, portRange);
        Directory.CreateDirectory(files.FileDescriptors);
        return files;
    }

    // /proc/PID/fd entries are symbolic links whose targets name what the descriptor is; dangling links reproduce them.
    private static void Link(ProcFiles files, string descriptor, string target) =>
        File.CreateSymbolicLink(Path.Combine(files.FileDescriptors, descriptor), target);
}
