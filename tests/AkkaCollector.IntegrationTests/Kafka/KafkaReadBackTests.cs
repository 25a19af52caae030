using AkkaCollector.Publishing;
using AkkaCollector.Testing.Processes;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaCollector.IntegrationTests.Kafka;

/// <summary>The read-back a restarted spooler relies on, against the Kafka mock: what KafkaPublisher wrote is found by spool and position.</summary>
public sealed class KafkaReadBackTests
{
    [Fact]
    public async Task Should_find_the_records_of_one_spool_and_the_sought_ones_of_other_spools_written_after_the_given_positions()
    {
        var options = new KafkaOptions();
        await using var mock = await KafkaMockProcess.StartAsync(brokers: 1, partitions: 4, options.Topic);
        using var publisher = new KafkaPublisher(options, mock.BootstrapServers, NullLogger<KafkaPublisher>.Instance);
        var readBack = new KafkaReadBack(options, mock.BootstrapServers, NullLogger<KafkaReadBack>.Instance);
        await PublishAsync(publisher, "spool-0", "before-1", "before-2", "before-3");
        await PublishAsync(publisher, "spool-1", "other-1", "other-2");
        var ends = (await readBack.ReadAsync("spool-0", from: null, NothingSought, CancellationToken.None).WaitAsync(Timeout)).End;

        var confirmed = await PublishAsync(publisher, "spool-0", "after-1", "after-2", "after-3", "after-4");
        await PublishAsync(publisher, "spool-1", "other-3");
        // Sought under other spools: one written before the positions, one after, and one never written.
        var sought = new[] { "other-1", "other-3", "never-written" }.Select(id => new RecordId("write-key", id)).ToHashSet();
        var sinceEnds = await readBack.ReadAsync("spool-0", ends, sought, CancellationToken.None).WaitAsync(Timeout);
        var everything = await readBack.ReadAsync("spool-0", KafkaPositions.None, NothingSought, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(["after-1", "after-2", "after-3", "after-4", "other-3"], sinceEnds.Records.Select(r => r.MessageId).Order());
        Assert.Equal(1, sinceEnds.FromOtherSpools);
        Assert.All(sinceEnds.Records, r => Assert.Equal("write-key", r.WriteKey));
        Assert.Equal(5, sinceEnds.RecordsRead);
        Assert.Equal(["after-1", "after-2", "after-3", "after-4", "before-1", "before-2", "before-3"], everything.Records.Select(r => r.MessageId).Order());
        // A batch's confirmed positions are just past its records: never beyond where the topic ends.
        Assert.All(confirmed.Next, position => Assert.True(position.Value <= everything.End.Next[position.Key], $"{confirmed} beyond {everything.End}"));
        Assert.Equal(10, everything.End.Next.Values.Sum());
    }

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly IReadOnlySet<RecordId> NothingSought = new HashSet<RecordId>();

    private static async Task<KafkaPositions> PublishAsync(KafkaPublisher publisher, string spool, params string[] messageIds)
    {
        var answered = new TaskCompletionSource<KafkaPositions>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Users spread the records over the topic's partitions.
        publisher.Publish(messageIds.Select(id => new Event(id, "user-" + id)).ToList(), spool, (error, confirmed) =>
        {
            if (error is null)
                answered.SetResult(confirmed);
            else
                answered.SetException(new InvalidOperationException(error));
        });
        return await answered.Task.WaitAsync(Timeout);
    }

    private sealed record Event(string MessageId, string PartitionKey) : IPublishableEvent
    {
        public string WriteKey => "write-key";
        public string Type => "track";
        public byte[] Payload => "{}"u8.ToArray();
        public bool Unverified => false;
    }
}
