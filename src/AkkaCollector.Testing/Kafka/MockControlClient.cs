using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaCollector.KafkaMock;
using Confluent.Kafka;
using static AkkaCollector.KafkaMock.MockControlProtocol;

namespace AkkaCollector.Testing.Kafka;

/// <summary>Drives a mock cluster through its control port (<see cref="MockControlProtocol"/>); one request at a time.</summary>
public sealed class MockControlClient : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    private MockControlClient(TcpClient client)
    {
        _client = client;
        var stream = client.GetStream();
        _reader = new StreamReader(stream, Encoding.UTF8);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };
    }

    /// <summary>How long one request may take before it fails; the mock's own calls sometimes stall ~1 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Connects to a control port given as IP:PORT.</summary>
    public static Task<MockControlClient> ConnectAsync(string address, CancellationToken cancellationToken = default) =>
        ConnectAsync(ParseEndPoint(address), cancellationToken);

    /// <summary>Connects to a control port.</summary>
    public static async Task<MockControlClient> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        var client = new TcpClient(endPoint.AddressFamily) { NoDelay = true };
        try
        {
            await client.ConnectAsync(endPoint, cancellationToken);
            return new MockControlClient(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Checks the mock is alive and answering.</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) => SendAsync(Ping, cancellationToken);

    /// <summary>Asks the mock for its bootstrap servers.</summary>
    public Task<string> GetBootstrapServersAsync(CancellationToken cancellationToken = default) => SendAsync(Bootstrap, cancellationToken);

    /// <summary>Takes one broker, or all (<see cref="MockCluster.AllBrokers"/>), down.</summary>
    public Task SetBrokerDownAsync(int brokerId = MockCluster.AllBrokers, CancellationToken cancellationToken = default) =>
        SendAsync($"{Down} {FormatBroker(brokerId)}", cancellationToken);

    /// <summary>Brings one broker, or all (<see cref="MockCluster.AllBrokers"/>), back up.</summary>
    public Task SetBrokerUpAsync(int brokerId = MockCluster.AllBrokers, CancellationToken cancellationToken = default) =>
        SendAsync($"{Up} {FormatBroker(brokerId)}", cancellationToken);

    /// <summary>Delays a broker's (or every broker's) responses.</summary>
    public Task SetRoundTripTimeAsync(int brokerId, int milliseconds, CancellationToken cancellationToken = default) =>
        SendAsync($"{Rtt} {FormatBroker(brokerId)} {milliseconds}", cancellationToken);

    /// <summary>Makes the next requests of <paramref name="apiKey"/> fail with <paramref name="errors"/>, in order.</summary>
    public Task PushRequestErrorsAsync(short apiKey, params ErrorCode[] errors) =>
        SendAsync($"{Errors} {apiKey} {string.Join(',', errors.Select(error => (int)error))}", CancellationToken.None);

    /// <summary>Forgets the errors still queued for <paramref name="apiKey"/>.</summary>
    public Task ClearRequestErrorsAsync(short apiKey, CancellationToken cancellationToken = default) =>
        SendAsync($"{Clear} {apiKey}", cancellationToken);

    /// <summary>Changes the address a broker advertises (e.g. a fault proxy in front of it).</summary>
    public Task SetBrokerHostPortAsync(int brokerId, string host, int port, CancellationToken cancellationToken = default) =>
        SendAsync($"{HostPort} {FormatBroker(brokerId)} {host} {port}", cancellationToken);

    /// <summary>Moves a partition's leadership to another broker.</summary>
    public Task SetPartitionLeaderAsync(string topic, int partition, int brokerId, CancellationToken cancellationToken = default) =>
        SendAsync($"{Leader} {topic} {partition} {FormatBroker(brokerId)}", cancellationToken);

    /// <summary>Sends one command line; returns what follows <c>ok</c>, or throws <see cref="MockControlException"/> with the mock's reason.</summary>
    public async Task<string> SendAsync(string command, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        await _oneAtATime.WaitAsync(timeout.Token);
        try
        {
            await _writer.WriteLineAsync(command.AsMemory(), timeout.Token);
            var answer = await _reader.ReadLineAsync(timeout.Token)
                         ?? throw new MockControlException(command, "the control connection closed");
            if (answer == Ok)
                return string.Empty;
            if (answer.StartsWith(Ok + " ", StringComparison.Ordinal))
                return answer[(Ok.Length + 1)..];
            throw new MockControlException(command, answer.StartsWith(ErrorPrefix, StringComparison.Ordinal) ? answer[ErrorPrefix.Length..] : answer);
        }
        catch (OperationCanceledException)
        {
            // A late answer would be read as the next command's: this connection can no longer be trusted.
            _client.Close();
            throw;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        _reader.Dispose();
        _client.Dispose();
        _oneAtATime.Dispose();
    }
}

/// <summary>The mock cluster's control port refused a command.</summary>
public sealed class MockControlException(string command, string reason)
    : Exception($"Mock control command '{command}' failed: {reason}")
{
    /// <summary>The mock's reason, as it answered.</summary>
    public string Reason { get; } = reason;
}
