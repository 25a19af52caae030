using System.Reflection;
using System.Runtime.InteropServices;

namespace AkkaCollector.KafkaMock;

/// <summary>P/Invoke declarations for librdkafka's mock cluster (rdkafka_mock.h), bound to the librdkafka Confluent.Kafka loaded.</summary>
/// <remarks>
/// librdkafka.redist ships several builds for linux-x64 and Confluent.Kafka picks the first that loads
/// (on Debian 12 the plain one lacks libsasl2.so.3, so it silently takes centos8-librdkafka.so).
/// Binding "librdkafka" by name would load a different file, or none; so the resolver hands back
/// exactly the file already mapped into this process, and both sides share one librdkafka.
/// </remarks>
internal static class LibrdkafkaNative
{
    private const string Library = "librdkafka";
    private static readonly Lazy<IntPtr> LoadedHandle = new(LoadWhatConfluentLoaded);

    /// <summary>Makes every DllImport below resolve to Confluent.Kafka's librdkafka. Call before any of them.</summary>
    internal static void EnsureBound() => _ = LoadedHandle.Value;

    private static IntPtr LoadWhatConfluentLoaded()
    {
        Confluent.Kafka.Library.Load();
        var path = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6)
            .Select(fields => string.Join(' ', fields.Skip(5)))
            .FirstOrDefault(file => Path.GetFileName(file).Contains("librdkafka", StringComparison.Ordinal)
                                    && file.Contains(".so", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("Confluent.Kafka loaded no librdkafka into this process (none in /proc/self/maps).");
        var handle = NativeLibrary.Load(path);
        NativeLibrary.SetDllImportResolver(typeof(LibrdkafkaNative).Assembly, Resolve);
        return handle;
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == Library ? LoadedHandle.Value : IntPtr.Zero;

    [DllImport(Library)]
    internal static extern IntPtr rd_kafka_conf_new();

    [DllImport(Library)]
    internal static extern void rd_kafka_conf_destroy(IntPtr conf);

    [DllImport(Library)]
    internal static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [DllImport(Library)]
    internal static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [DllImport(Library)]
    internal static extern void rd_kafka_destroy(IntPtr rk);

    [DllImport(Library)]
    internal static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [DllImport(Library)]
    internal static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

    [DllImport(Library)]
    internal static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [DllImport(Library)]
    internal static extern int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitions, int replicationFactor);

    [DllImport(Library)]
    internal static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [DllImport(Library)]
    internal static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);

    [DllImport(Library)]
    internal static extern int rd_kafka_mock_broker_set_rtt(IntPtr mcluster, int brokerId, int rttMs);

    [DllImport(Library)]
    internal static extern int rd_kafka_mock_broker_set_host_port(IntPtr mcluster, int brokerId, string host, int port);

    [DllImport(Library)]
    internal static extern int rd_kafka_mock_partition_set_leader(IntPtr mcluster, string topic, int partition, int brokerId);

    [DllImport(Library)]
    internal static extern void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, UIntPtr count, int[] errors);

    [DllImport(Library)]
    internal static extern void rd_kafka_mock_clear_request_errors(IntPtr mcluster, short apiKey);

    [DllImport(Library)]
    internal static extern void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mcluster, int delayMs);

    [DllImport(Library)]
    internal static extern void rd_kafka_mock_start_request_tracking(IntPtr mcluster);

    /// <summary>Copies of the requests received since tracking started: an array of <paramref name="count"/> pointers (null when none).</summary>
    [DllImport(Library)]
    internal static extern IntPtr rd_kafka_mock_get_requests(IntPtr mcluster, out UIntPtr count);

    [DllImport(Library)]
    internal static extern short rd_kafka_mock_request_api_key(IntPtr request);

    [DllImport(Library)]
    internal static extern void rd_kafka_mock_request_destroy_array(IntPtr requests, UIntPtr count);
}
