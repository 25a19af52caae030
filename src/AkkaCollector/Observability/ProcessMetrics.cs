using System.Diagnostics;

namespace AkkaCollector.Observability;

/// <summary>
/// Process metrics the story needed and prometheus-net's defaults lack or name unstably: TCP sockets by state,
/// ephemeral-port use against the kernel's range (the story found a 5000–64000 range nobody could explain), the
/// thread pool and GC pauses. Collected when /metrics is scraped, from /proc and the runtime: a few file reads,
/// no timers, and never an exception into the scrape (an unreadable /proc leaves those gauges where they were).
/// </summary>
/// <remarks>
/// The socket census is taken at most once per <see cref="SocketCensusEvery"/>, however often /metrics is scraped.
/// Reading /proc/net/tcp makes the kernel walk the namespace's connection table: with 256 producers' connections
/// open and 1 400-3 600 sockets in the namespace, a scrape cost the collector 22-34 ms of CPU (2-6 ms without the
/// census), and the benchmark's scrapes four times a second took 3.9 % of its CPU while it drained a backlog
/// (docs/benchmark.md). A dashboard left open scrapes once a second.
/// </remarks>
public static class ProcessMetrics
{
    /// <summary>How often the socket gauges may be refreshed; scrapes in between show the last census.</summary>
    public static readonly TimeSpan SocketCensusEvery = TimeSpan.FromSeconds(5);

    private const string ProcessScope = "process";
    private const string NamespaceScope = "namespace";
    private static readonly CensusSchedule SocketCensusDue = new(SocketCensusEvery);
    private static int _registered;

    /// <summary>Hooks collection into <paramref name="registry"/>'s scrapes (the default registry in the host). Once per process.</summary>
    public static void Register(Prometheus.CollectorRegistry registry)
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
            registry.AddBeforeCollectCallback(() => CollectOnScrape(ProcFiles.Self, SocketCensusDue, Stopwatch.GetTimestamp()));
    }

    /// <summary>What a scrape at <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp) collects: the runtime's gauges, and the sockets when <paramref name="census"/> says it is time.</summary>
    internal static void CollectOnScrape(ProcFiles files, CensusSchedule census, long now)
    {
        CollectRuntime();
        if (census.TryTake(now))
            TryCollectSockets(files);
    }

    private static void TryCollectSockets(ProcFiles files)
    {
        try
        {
            CollectSockets(files);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc hidden by a hardened container: socket gauges are simply not updated.
        }
    }

    private static void CollectRuntime()
    {
        CollectorMetrics.ThreadPoolThreads.Set(ThreadPool.ThreadCount);
        CollectorMetrics.ThreadPoolQueueLength.Set(ThreadPool.PendingWorkItemCount);
        CollectorMetrics.ThreadPoolCompletedItems.IncTo(ThreadPool.CompletedWorkItemCount);
        CollectorMetrics.GcPauseSeconds.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
        // The runtime (10.0.12 here) sums the heaps in use only, so the count drops when server GC's dynamic heap
        // count (DATAS) takes one out of use, and comes back when it returns (dotnet/runtime#131069). The counter never
        // goes back: it stands still meanwhile and catches up afterwards.
        CollectorMetrics.GcAllocatedBytes.IncTo(GC.GetTotalAllocatedBytes());
        var memory = GC.GetGCMemoryInfo();
        CollectorMetrics.GcHeapBytes.WithLabels("size").Set(memory.HeapSizeBytes);
        CollectorMetrics.GcHeapBytes.WithLabels("committed").Set(memory.TotalCommittedBytes);
        CollectorMetrics.JitCompilationSeconds.IncTo(System.Runtime.JitInfo.GetCompilationTime().TotalSeconds);
        CollectorMetrics.JitCompiledMethods.IncTo(System.Runtime.JitInfo.GetCompiledMethodCount());
        CollectorMetrics.ProcessCpuSeconds.IncTo(Environment.CpuUsage.TotalTime.TotalSeconds);
        CollectorMetrics.ProcessResidentBytes.Set(Environment.WorkingSet);
    }

    private static void CollectSockets(ProcFiles files)
    {
        var sockets = ProcNetTcp.ParseSockets(File.ReadAllText(files.Tcp));
        if (File.Exists(files.Tcp6))
            sockets.AddRange(ProcNetTcp.ParseSockets(File.ReadAllText(files.Tcp6)));
        var range = ProcNetTcp.TryParsePortRange(File.ReadAllText(files.PortRange), out var parsed) ? parsed : (PortRange?)null;
        var own = OwnSocketInodes(files.FileDescriptors);

        Publish(NamespaceScope, SocketCensus.Take(sockets, range, _ => true));
        Publish(ProcessScope, SocketCensus.Take(sockets, range, socket => socket.Inode != 0 && own.Contains(socket.Inode)));
        if (range is { } known)
        {
            CollectorMetrics.EphemeralPortRange.WithLabels("first").Set(known.First);
            CollectorMetrics.EphemeralPortRange.WithLabels("last").Set(known.Last);
        }
    }

    private static void Publish(string scope, SocketCensus census)
    {
        // Every state is set every time, zeros included, so a state that empties drops to 0 instead of freezing.
        for (var state = 1; state < ProcNetTcp.StateNames.Length; state++)
            CollectorMetrics.TcpSockets.WithLabels(scope, ProcNetTcp.StateNames[state]).Set(census.ByState[state]);
        if (census.EphemeralPortsInUse is { } ports)
            CollectorMetrics.EphemeralPortsInUse.WithLabels(scope).Set(ports);
    }

    private static HashSet<long> OwnSocketInodes(string fileDescriptors)
    {
        var inodes = new HashSet<long>();
        foreach (var descriptor in Directory.EnumerateFileSystemEntries(fileDescriptors))
        {
            try
            {
                if (ProcNetTcp.TryParseSocketInode(new FileInfo(descriptor).LinkTarget, out var inode))
                    inodes.Add(inode);
            }
            catch (IOException)
            {
                // The descriptor closed between listing and reading: it is no longer ours to count.
            }
        }
        return inodes;
    }
}

/// <summary>Says when a costly collection is due: the first time asked, then once <c>every</c> has passed since the last one taken.</summary>
internal sealed class CensusSchedule(TimeSpan every)
{
    private const long NeverTaken = long.MinValue;
    private long _lastTakenAt = NeverTaken;

    /// <summary>True when the collection is due at <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp); concurrent scrapes take it once.</summary>
    public bool TryTake(long now)
    {
        var last = Interlocked.Read(ref _lastTakenAt);
        if (last != NeverTaken && Stopwatch.GetElapsedTime(last, now) < every)
            return false;
        return Interlocked.CompareExchange(ref _lastTakenAt, now, last) == last;
    }
}

/// <summary>Where the socket tables live; <see cref="Self"/> in production, a folder of sample files in tests.</summary>
internal sealed record ProcFiles(string Tcp, string Tcp6, string PortRange, string FileDescriptors)
{
    public static readonly ProcFiles Self = new(
        "/proc/self/net/tcp", "/proc/self/net/tcp6", "/proc/sys/net/ipv4/ip_local_port_range", "/proc/self/fd");
}

/// <summary>Sockets counted by state, and the distinct local ports they hold inside the ephemeral range (null when the range is unknown).</summary>
public sealed record SocketCensus(int[] ByState, int? EphemeralPortsInUse)
{
    /// <summary>Counts the sockets <paramref name="include"/> accepts.</summary>
    public static SocketCensus Take(IEnumerable<TcpSocket> sockets, PortRange? range, Func<TcpSocket, bool> include)
    {
        var byState = new int[ProcNetTcp.StateNames.Length];
        var ports = new HashSet<int>();
        foreach (var socket in sockets.Where(include))
        {
            byState[socket.State]++;
            if (range is { } known && known.Contains(socket.LocalPort))
                ports.Add(socket.LocalPort);
        }
        return new SocketCensus(byState, range is null ? null : ports.Count);
    }
}
