using AkkaCollector.KafkaMock;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;
using Confluent.Kafka;

namespace AkkaCollector.IntegrationTests.Kafka;

/// <summary>The collector's <c>kafka-mock</c> verb, run as a real child process and driven over its control port.</summary>
public sealed class KafkaMockVerbTests
{
    private const string Topic = "events";
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Should_stall_a_produce_while_all_brokers_are_down_and_complete_it_once_they_are_up()
    {
        await using var mock = await KafkaMockProcess.StartAsync(brokers: 3, partitions: 4, Topic);
        using var producer = new NumberedProducer(mock.BootstrapServers, Topic, messageTimeoutMs: 120_000);
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceOneAsync()).Status);

        await mock.Control.SetBrokerDownAsync(MockCluster.AllBrokers);
        var stalled = producer.ProduceOneAsync();
        var firstDone = await Task.WhenAny(stalled, Task.Delay(TimeSpan.FromSeconds(2)));
        await mock.Control.SetBrokerUpAsync(MockCluster.AllBrokers);

        Assert.NotSame(stalled, firstDone);
        var delivered = await stalled.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
    }

    [Fact]
    public async Task Should_exit_0_on_SIGTERM()
    {
        await using var mock = await KafkaMockProcess.StartAsync(brokers: 1, partitions: 1, Topic);

        Assert.True(mock.Process.SendSignal(Signals.SIGTERM));

        Assert.Equal(0, await mock.Process.WaitForExitAsync(ExitTimeout));
    }

    [Fact]
    public async Task Should_exit_0_when_its_stdin_closes()
    {
        await using var mock = await KafkaMockProcess.StartAsync(brokers: 1, partitions: 1, Topic);

        mock.Process.CloseStandardInput();

        Assert.Equal(0, await mock.Process.WaitForExitAsync(ExitTimeout));
    }

    [Fact]
    public async Task Should_answer_an_unknown_command_with_an_error_and_keep_serving()
    {
        await using var mock = await KafkaMockProcess.StartAsync(brokers: 1, partitions: 1, Topic);

        var refused = await Assert.ThrowsAsync<MockControlException>(() => mock.Control.SendAsync("explode all"));

        Assert.StartsWith("unknown command 'explode'", refused.Reason);
        Assert.Equal(mock.BootstrapServers, await mock.Control.GetBootstrapServersAsync());
    }

    [Fact]
    public async Task Should_exit_2_and_print_usage_for_an_unknown_argument()
    {
        using var verb = ChildProcess.StartDotnet(CollectorBinary.Path, ["kafka-mock", "--bogus"]);

        Assert.Equal(2, await verb.WaitForExitAsync(ExitTimeout));
        Assert.Contains(verb.Lines, line => line.Stream == OutputStream.Stderr && line.Text.StartsWith("usage: kafka-mock", StringComparison.Ordinal));
    }
}
