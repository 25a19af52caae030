using AkkaCollector.KafkaMock;
using AkkaCollector.Testing.Kafka;
using Confluent.Kafka;

namespace AkkaCollector.IntegrationTests.Kafka;

/// <summary>The in-process mock cluster behaves like Kafka for an idempotent producer, and its faults reach the client.</summary>
public sealed class MockClusterTests
{
    private const string Topic = "events";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_deliver_ten_thousand_records_that_the_audit_reads_back_once_each()
    {
        using var cluster = MockCluster.Start(brokers: 3, Topic, partitions: 8);
        await using var audit = TopicAudit.Start(cluster.BootstrapServers, Topic);
        using var producer = new NumberedProducer(cluster.BootstrapServers, Topic);

        producer.Produce(10_000);

        Assert.True(producer.Flush(Patience));
        Assert.Empty(producer.Failures);
        Assert.Equal(10_000, producer.Delivered);
        Assert.True(await audit.WaitUntilAsync(a => a.Count == 10_000, Patience), audit.ToString());
        Assert.Equal(0, audit.Duplicates);
        Assert.True(audit.Contains(NumberedProducer.IdOf(0)) && audit.Contains(NumberedProducer.IdOf(9_999)), audit.ToString());
    }

    [Fact]
    public async Task Should_deliver_everything_once_after_all_brokers_were_down_for_three_seconds()
    {
        using var cluster = MockCluster.Start(brokers: 3, Topic, partitions: 8);
        await using var audit = TopicAudit.Start(cluster.BootstrapServers, Topic);
        using var producer = new NumberedProducer(cluster.BootstrapServers, Topic, messageTimeoutMs: 300_000);
        producer.Produce(2_000);
        Assert.True(producer.Flush(Patience));

        cluster.SetBrokerDown(MockCluster.AllBrokers);
        for (var second = 0; second < 3; second++)
        {
            producer.Produce(1_000);
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var deliveredWhileDown = producer.Delivered;
        cluster.SetBrokerUp(MockCluster.AllBrokers);

        Assert.Equal(2_000, deliveredWhileDown);
        Assert.True(producer.Flush(Patience));
        Assert.Empty(producer.Failures);
        Assert.Equal(5_000, producer.Delivered);
        Assert.True(await audit.WaitUntilAsync(a => a.Count == 5_000, Patience), audit.ToString());
        Assert.Equal(0, audit.Duplicates);
    }

    [Theory]
    [InlineData("spool-a-0", "spool-b-0", CopyOrigin.StoredByTwoSpools)]
    [InlineData("spool-a-0", "spool-a-0", CopyOrigin.SentAgainByOneSpool)]
    public async Task Should_have_the_audit_say_where_both_copies_of_a_record_written_twice_landed_and_which_spools_sent_them(
        string firstSpool, string secondSpool, CopyOrigin origin)
    {
        using var cluster = MockCluster.Start(brokers: 1, Topic, partitions: 1);
        await using var audit = TopicAudit.Start(cluster.BootstrapServers, Topic);
        using var first = new NumberedProducer(cluster.BootstrapServers, Topic, spool: firstSpool);
        using var second = new NumberedProducer(cluster.BootstrapServers, Topic, spool: secondSpool);

        // Two producers number their records alike: the second one's three are second copies of the first one's.
        first.Produce(10);
        Assert.True(first.Flush(Patience));
        second.Produce(3);
        Assert.True(second.Flush(Patience));

        Assert.True(await audit.WaitUntilAsync(a => a.Records == 13, Patience), audit.ToString());
        Assert.Equal(3, audit.Duplicates);
        Assert.Equal(
            Enumerable.Range(0, 3).Select(n =>
                $"{NumberedProducer.IdOf(n)}: first at partition 0 offset {n} from {firstSpool}, copy 2 at partition 0 offset {10 + n} from {secondSpool}"),
            audit.ExtraCopies.Select(copy => copy.ToString()));
        // A request appended again would have put these copies at offsets 3-5: at 10-12 they are records sent again.
        Assert.Equal(audit.ExtraCopies, audit.ExtraCopiesBesidesRunsWrittenTwice());
        Assert.Equal(new Dictionary<CopyOrigin, int> { [origin] = 3 }, audit.ExtraCopiesByOrigin());
    }

    [Fact]
    public async Task Should_append_a_produce_request_again_when_its_broker_went_down_before_answering_it()
    {
        using var cluster = MockCluster.Start(brokers: 1, Topic, partitions: 1);
        await using var audit = TopicAudit.Start(cluster.BootstrapServers, Topic);
        using var producer = new NumberedProducer(cluster.BootstrapServers, Topic, messageTimeoutMs: 300_000);
        // One record first: the producer has its id and its connection before the broker holds answers back.
        await producer.ProduceOneAsync();

        // The broker holds its answers back for minutes: the next Produce request is appended and left unanswered.
        cluster.StartRequestTracking();
        cluster.SetRoundTripTime(MockCluster.AllBrokers, 300_000);
        producer.Produce(50);
        var deadline = DateTime.UtcNow + Patience;
        while (cluster.RequestsReceived(KafkaApiKey.Produce) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the broker never received the Produce request");
            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }
        cluster.SetBrokerDown(MockCluster.AllBrokers);
        cluster.SetRoundTripTime(MockCluster.AllBrokers, 0);
        cluster.SetBrokerUp(MockCluster.AllBrokers);

        Assert.True(producer.Flush(Patience));
        Assert.Empty(producer.Failures);
        Assert.Equal(50, producer.Delivered);
        Assert.True(await audit.WaitUntilReadToEndAsync(Patience), audit.ToString());
        // librdkafka saw the connection close, and sent the request again with the same sequence numbers once the
        // broker was back. The mock appended it again: it checks sequences only for transactional producers. Kafka
        // would have acknowledged the retry without writing it twice.
        Assert.InRange(audit.Duplicates, 1, 50);
        Assert.Empty(audit.ExtraCopiesBesidesRunsWrittenTwice());
        Assert.Equal(new Dictionary<CopyOrigin, int> { [CopyOrigin.WrittenTwiceByTheMock] = audit.Duplicates }, audit.ExtraCopiesByOrigin());
    }

    [Fact]
    public async Task Should_retry_and_deliver_once_when_produce_requests_fail_with_retriable_errors()
    {
        using var cluster = MockCluster.Start(brokers: 3, Topic, partitions: 8);
        await using var audit = TopicAudit.Start(cluster.BootstrapServers, Topic);
        using var producer = new NumberedProducer(cluster.BootstrapServers, Topic);
        cluster.PushRequestErrors(KafkaApiKey.Produce, Enumerable.Repeat((int)ErrorCode.NotEnoughReplicas, 5).ToArray());

        producer.Produce(1_000);

        Assert.True(producer.Flush(Patience));
        Assert.Empty(producer.Failures);
        Assert.True(await audit.WaitUntilAsync(a => a.Count == 1_000, Patience), audit.ToString());
        Assert.Equal(0, audit.Duplicates);
    }

    [Fact]
    public async Task Should_fail_the_delivery_with_the_pushed_error_when_it_is_not_retriable()
    {
        using var cluster = MockCluster.Start(brokers: 1, Topic, partitions: 1);
        using var producer = new NumberedProducer(cluster.BootstrapServers, Topic);
        cluster.PushRequestErrors(KafkaApiKey.Produce, (int)ErrorCode.TopicAuthorizationFailed);

        var refused = await Assert.ThrowsAsync<ProduceException<Null, byte[]>>(producer.ProduceOneAsync);

        Assert.Equal(ErrorCode.TopicAuthorizationFailed, refused.Error.Code);
    }

    [Fact]
    public void Should_refuse_to_make_a_partition_leaderless_because_that_crashes_the_process()
    {
        using var cluster = MockCluster.Start(brokers: 3, Topic, partitions: 2);

        Assert.Throws<ArgumentException>(() => cluster.SetPartitionLeader(Topic, 0, MockCluster.AllBrokers));
    }
}
