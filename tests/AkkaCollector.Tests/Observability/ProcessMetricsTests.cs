using AkkaCollector.Observability;
using Prometheus;

namespace AkkaCollector.Tests.Observability;

/// <summary>The process gauges are process-wide: these tests run alone so that no other scrape rewrites them mid-test.</summary>
[CollectionDefinition(nameof(ProcessMetricsTests), DisableParallelization = true)]
[Collection(nameof(ProcessMetricsTests))]
public sealed class ProcessMetricsTests : IDisposable
{
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

        ProcessMetrics.Collect(files);

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

        var collect = Record.Exception(() => ProcessMetrics.Collect(missing));

        Assert.Null(collect);
        Assert.True(CollectorMetrics.ThreadPoolThreads.Value >= 1);
        Assert.True(CollectorMetrics.ThreadPoolCompletedItems.Value >= 1);
        Assert.True(CollectorMetrics.GcAllocatedBytes.Value > 0);
        Assert.True(CollectorMetrics.JitCompiledMethods.Value > 0);
        Assert.True(CollectorMetrics.JitCompilationSeconds.Value > 0);
    }

    [Fact]
    public async Task Should_collect_process_metrics_when_the_registry_is_scraped()
    {
        ProcessMetrics.Register(Metrics.DefaultRegistry);
        using var scraped = new MemoryStream();

        await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(scraped);

        var text = System.Text.Encoding.UTF8.GetString(scraped.ToArray());
        Assert.Contains("collector_threadpool_queue_length ", text);
        Assert.Contains("collector_gc_pause_seconds_total ", text);
        Assert.Contains("collector_jit_compilation_seconds_total ", text);
        Assert.Contains("""collector_gc_heap_bytes{kind="committed"}""", text);
        Assert.Contains("""collector_tcp_sockets{scope="process",state="listen"}""", text);
        Assert.Contains("""collector_ephemeral_port_range{bound="first"}""", text);
    }

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
