using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using static AkkaCollector.KafkaMock.LibrdkafkaNative;

namespace AkkaCollector.KafkaMock;

/// <summary>An in-process librdkafka mock cluster: real Kafka protocol on 127.0.0.1, with broker fault injection.</summary>
/// <remarks>
/// The cluster lives inside an rd_kafka handle of its own; it must be destroyed before that handle
/// (the other order aborts the process). Control calls are serialised by a lock because the mock's
/// C API is not documented as thread-safe and callers (the control server, tests) come from many threads.
/// </remarks>
public sealed class MockCluster : IDisposable
{
    /// <summary>Broker id meaning "every broker" in the mock's C API.</summary>
    public const int AllBrokers = -1;

    private const int ProducerHandleType = 0;
    private const int MaxReplicationFactor = 3;
    private readonly object _gate = new();
    private IntPtr _handle;
    private IntPtr _cluster;

    private MockCluster(IntPtr handle, IntPtr cluster, int brokerCount)
    {
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokerCount;
        BootstrapServers = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(cluster))
                           ?? throw new InvalidOperationException("The mock cluster reported no bootstrap servers.");
    }

    /// <summary>Comma-separated HOST:PORT list of the brokers' listeners.</summary>
    public string BootstrapServers { get; }

    /// <summary>Number of brokers; their ids are 1..BrokerCount.</summary>
    public int BrokerCount { get; }

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers holding <paramref name="topic"/>, ready for consumer groups without the usual 3 s join delay.</summary>
    public static MockCluster Start(int brokers, string topic, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        EnsureBound();
        var handle = CreateOwningHandle();
        var cluster = rd_kafka_mock_cluster_new(handle, brokers);
        if (cluster == IntPtr.Zero)
        {
            rd_kafka_destroy(handle);
            throw new InvalidOperationException($"librdkafka refused to create a mock cluster of {brokers} brokers.");
        }

        var mock = new MockCluster(handle, cluster, brokers);
        try
        {
            rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, 0);
            mock.CreateTopic(topic, partitions);
            return mock;
        }
        catch
        {
            mock.Dispose();
            throw;
        }
    }

    /// <summary>Creates a topic, replicated on up to three brokers.</summary>
    public void CreateTopic(string topic, int partitions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        Control($"create topic {topic}", cluster =>
            rd_kafka_mock_topic_create(cluster, topic, partitions, Math.Min(BrokerCount, MaxReplicationFactor)));
    }

    /// <summary>Closes a broker's connections and refuses new ones (<see cref="AllBrokers"/> = all).</summary>
    public void SetBrokerDown(int brokerId) =>
        Control($"set broker {brokerId} down", cluster => rd_kafka_mock_broker_set_down(cluster, CheckBroker(brokerId)));

    /// <summary>Lets a broker accept connections again (<see cref="AllBrokers"/> = all).</summary>
    public void SetBrokerUp(int brokerId) =>
        Control($"set broker {brokerId} up", cluster => rd_kafka_mock_broker_set_up(cluster, CheckBroker(brokerId)));

    /// <summary>Delays every response of a broker by <paramref name="milliseconds"/> (0 = none).</summary>
    public void SetRoundTripTime(int brokerId, int milliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds);
        Control($"set broker {brokerId} rtt {milliseconds} ms",
            cluster => rd_kafka_mock_broker_set_rtt(cluster, CheckBroker(brokerId), milliseconds));
    }

    /// <summary>Changes the address a broker advertises in metadata (its listener stays where it is), e.g. to route clients through a fault proxy.</summary>
    public void SetBrokerHostPort(int brokerId, string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (brokerId == AllBrokers)
            throw new ArgumentException("Each broker needs its own advertised address; name one broker.", nameof(brokerId));
        Control($"advertise broker {brokerId} as {host}:{port}",
            cluster => rd_kafka_mock_broker_set_host_port(cluster, CheckBroker(brokerId), host, port));
    }

    /// <summary>Moves a partition's leadership to another broker.</summary>
    /// <exception cref="ArgumentException">For broker -1: a leaderless partition crashes the process (SIGSEGV) as soon as a producer writes to it.</exception>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        if (brokerId == AllBrokers)
            throw new ArgumentException("A leaderless partition crashes librdkafka's mock while a producer writes; use SetBrokerDown instead.", nameof(brokerId));
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        Control($"make broker {brokerId} leader of {topic}[{partition}]",
            cluster => rd_kafka_mock_partition_set_leader(cluster, topic, partition, CheckBroker(brokerId)));
    }

    /// <summary>Makes the next requests of <paramref name="apiKey"/> (any broker) fail, in order, with the given Kafka error codes.</summary>
    public void PushRequestErrors(short apiKey, params int[] errors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(apiKey);
        if (errors.Length == 0)
            throw new ArgumentException("Push at least one error code.", nameof(errors));
        var copy = errors.ToArray();
        Control(cluster => rd_kafka_mock_push_request_errors_array(cluster, apiKey, (UIntPtr)copy.Length, copy));
    }

    /// <summary>Forgets the errors still queued for <paramref name="apiKey"/>.</summary>
    public void ClearRequestErrors(short apiKey)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(apiKey);
        Control(cluster => rd_kafka_mock_clear_request_errors(cluster, apiKey));
    }

    /// <summary>From now on the mock counts the requests its brokers receive (<see cref="RequestsReceived"/>).</summary>
    public void StartRequestTracking() => Control(rd_kafka_mock_start_request_tracking);

    /// <summary>
    /// Requests of <paramref name="apiKey"/> the brokers received since <see cref="StartRequestTracking"/>. The mock
    /// counts a request just before its own thread handles it, and runs the control calls that change the cluster
    /// (a broker down or up, ...) on that thread between its rounds of handling: one made after this count saw a
    /// request runs after that request was handled (for a Produce, after its records were appended).
    /// </summary>
    public int RequestsReceived(short apiKey)
    {
        var received = 0;
        Control(cluster =>
        {
            var requests = rd_kafka_mock_get_requests(cluster, out var count);
            if (requests == IntPtr.Zero)
                return;
            try
            {
                for (var i = 0; i < (int)count; i++)
                    if (rd_kafka_mock_request_api_key(Marshal.ReadIntPtr(requests, i * IntPtr.Size)) == apiKey)
                        received++;
            }
            finally
            {
                rd_kafka_mock_request_destroy_array(requests, count);
            }
        });
        return received;
    }

    /// <summary>Destroys the cluster, then its owning handle; its ports refuse connections afterwards.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster == IntPtr.Zero)
                return;
            rd_kafka_mock_cluster_destroy(_cluster);
            _cluster = IntPtr.Zero;
            rd_kafka_destroy(_handle);
            _handle = IntPtr.Zero;
        }
    }

    private int CheckBroker(int brokerId)
    {
        if (brokerId != AllBrokers && (brokerId < 1 || brokerId > BrokerCount))
            throw new ArgumentOutOfRangeException(nameof(brokerId), brokerId, $"Broker ids run from 1 to {BrokerCount}, or -1 for all.");
        return brokerId;
    }

    private void Control(string what, Func<IntPtr, int> call)
    {
        var error = 0;
        Control(cluster => error = call(cluster));
        if (error != 0)
            throw new InvalidOperationException($"Mock cluster could not {what}: {new Error((ErrorCode)error).Reason}");
    }

    private void Control(Action<IntPtr> call)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            call(_cluster);
        }
    }

    private static IntPtr CreateOwningHandle()
    {
        var conf = rd_kafka_conf_new();
        var errstr = new byte[512];
        // The owning handle never talks to a broker; quiet its logs so they do not drown the mock's own.
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, (UIntPtr)errstr.Length) != 0)
        {
            rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException($"librdkafka refused log_level: {ErrorText(errstr)}");
        }

        var handle = rd_kafka_new(ProducerHandleType, conf, errstr, (UIntPtr)errstr.Length);
        if (handle != IntPtr.Zero)
            return handle;
        rd_kafka_conf_destroy(conf); // rd_kafka_new takes ownership of conf only on success.
        throw new InvalidOperationException($"librdkafka refused to create the mock cluster's handle: {ErrorText(errstr)}");
    }

    private static string ErrorText(byte[] errstr)
    {
        var end = Array.IndexOf(errstr, (byte)0);
        return Encoding.UTF8.GetString(errstr, 0, end < 0 ? errstr.Length : end);
    }
}
