using System.Collections.Concurrent;
using AkkaCollector.Publishing;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaCollector.IntegrationTests.Kafka;

/// <summary>What KafkaPublisher writes, read back from the Kafka mock: every record its own headers, whatever a batch shares.</summary>
public sealed class KafkaPublisherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_give_every_record_its_own_headers_when_one_batch_mixes_apps_types_and_unverified_events()
    {
        var options = new KafkaOptions();
        await using var mock = await KafkaMockProcess.StartAsync(brokers: 1, partitions: 4, options.Topic);
        var records = new ConcurrentDictionary<string, AuditedRecord>();
        await using var audit = TopicAudit.Start(mock.BootstrapServers, options.Topic, inspect: record => records[record.MessageId ?? ""] = record);
        using var publisher = new KafkaPublisher(options, mock.BootstrapServers, NullLogger<KafkaPublisher>.Instance);
        // Two apps, two types, one unverified event, and an app whose write key is also a type's name.
        Event[] batch =
        [
            new("m1", "app-a", "track", Unverified: false),
            new("m2", "app-b", "identify", Unverified: true),
            new("m3", "app-a", "identify", Unverified: false),
            new("m4", "app-b", "track", Unverified: false),
            new("m5", "track", "track", Unverified: false),
        ];

        var answered = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        publisher.Publish(batch, "spool-vm-3", (error, _) => answered.SetResult(error));
        Assert.Null(await answered.Task.WaitAsync(Timeout));
        Assert.True(await audit.WaitUntilAsync(a => a.Count == batch.Length, Timeout), audit.ToString());

        foreach (var sent in batch)
        {
            var headers = records[sent.MessageId].Headers;
            Assert.Equal(sent.MessageId, headers[KafkaPublisher.MessageIdHeader]);
            Assert.Equal(sent.WriteKey, headers[KafkaPublisher.WriteKeyHeader]);
            Assert.Equal(sent.Type, headers[KafkaPublisher.TypeHeader]);
            Assert.Equal("spool-vm-3", headers[KafkaPublisher.SpoolHeader]);
            Assert.Equal(sent.Unverified, headers.ContainsKey(KafkaPublisher.UnverifiedHeader));
            Assert.Equal(sent.Unverified ? 5 : 4, headers.Count);
        }
    }

    private sealed record Event(string MessageId, string WriteKey, string Type, bool Unverified) : IPublishableEvent
    {
        public string PartitionKey => "user-" + MessageId;
        public byte[] Payload => "{}"u8.ToArray();
    }
}
