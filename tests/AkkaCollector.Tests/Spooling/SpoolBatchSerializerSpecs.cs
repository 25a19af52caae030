using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;

namespace AkkaCollector.Tests.Spooling;

public sealed class SpoolBatchSerializerSpecs : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public void Should_read_back_exactly_what_it_wrote_including_unicode_and_flags()
    {
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);
        var batch = new SpoolBatch([
            new SpooledEvent("id-1", "wk", "user-ü", "track", "{\"event\":\"Käse 🧀\"}"u8.ToArray()),
            new SpooledEvent("id-2", "wk2", "anon", "identify", [], Unverified: true),
        ]);

        var copy = (SpoolBatch)serializer.FromBinary(serializer.ToBinary(batch), typeof(SpoolBatch));

        Assert.Equal(batch.Events.Count, copy.Events.Count);
        for (var i = 0; i < batch.Events.Count; i++)
        {
            Assert.Equal(batch.Events[i] with { Payload = [] }, copy.Events[i] with { Payload = [] });
            Assert.Equal(batch.Events[i].Payload, copy.Events[i].Payload);
        }
    }

    [Fact]
    public void Should_read_back_the_delivery_mark_it_wrote()
    {
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);
        var mark = new DeliveryMark(41, KafkaPositions.Of([new(0, 1_000_000_000_000), new(31, 7)]));
        var batch = new SpoolBatch([new SpooledEvent("id-1", "wk", "user", "track", [1, 2])], mark);

        var copy = (SpoolBatch)serializer.FromBinary(serializer.ToBinary(batch), typeof(SpoolBatch));

        Assert.Equal(41, copy.Mark!.DeliveredThrough);
        Assert.Equal(mark.KafkaFrom.Next.OrderBy(kv => kv.Key), copy.Mark.KafkaFrom.Next.OrderBy(kv => kv.Key));
        Assert.Equal([1, 2], copy.Events[0].Payload);
    }

    [Theory]
    // Version 1 (before delivery marks), one event: flags, messageId "m", writeKey "w", partitionKey "p", type "t", payload [7].
    [InlineData(new byte[] { 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, (byte)'m', 1, 0, 0, 0, (byte)'w', 1, 0, 0, 0, (byte)'p', 1, 0, 0, 0, (byte)'t', 1, 0, 0, 0, 7 })]
    // Version 2 (before compressed rows): the same event, then the flag of an absent mark.
    [InlineData(new byte[] { 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, (byte)'m', 1, 0, 0, 0, (byte)'w', 1, 0, 0, 0, (byte)'p', 1, 0, 0, 0, (byte)'t', 1, 0, 0, 0, 7, 0 })]
    public void Should_still_read_rows_written_before_delivery_marks_and_before_compression(byte[] row)
    {
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);

        var batch = (SpoolBatch)serializer.FromBinary(row, typeof(SpoolBatch));

        Assert.Equal(new SpooledEvent("m", "w", "p", "t", batch.Events[0].Payload), batch.Events[0]);
        Assert.Equal([7], batch.Events[0].Payload);
        Assert.Null(batch.Mark);
    }

    [Fact]
    public void Should_write_a_group_commit_of_json_events_as_a_compressed_row_a_fraction_of_its_size()
    {
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);
        var batch = new SpoolBatch(Enumerable.Range(0, 250).Select(i => new SpooledEvent($"id-{i}", "wk", $"user-{i % 40}", "track",
            Encoding.UTF8.GetBytes($$"""{"type":"track","event":"Order Completed","userId":"user-{{i % 40}}","properties":{"orderId":"o-{{i}}","total":{{i * 3.5}}},"context":{"library":{"name":"analytics-node","version":"1.3.0"},"ip":"203.0.113.{{i % 250}}"},"messageId":"id-{{i}}","receivedAt":"2026-12-02T16:00:00.{{i:000}}Z"}"""))).ToList());

        var row = serializer.ToBinary(batch);
        var copy = (SpoolBatch)serializer.FromBinary(row, typeof(SpoolBatch));

        Assert.Equal(3, row[0]);
        Assert.True(row.Length * 3 < batch.PayloadBytes, $"a row of {row.Length} bytes for {batch.PayloadBytes} bytes of events");
        Assert.True(row.Length < 85_000, "a batch write's row stays off the large-object heap");
        Assert.Equal(batch.Events.Select(e => e with { Payload = [] }), copy.Events.Select(e => e with { Payload = [] }));
        Assert.Equal(batch.Events.Select(e => Convert.ToHexString(e.Payload)), copy.Events.Select(e => Convert.ToHexString(e.Payload)));
    }

    [Fact]
    public async Task Should_write_and_read_rows_on_many_threads_at_once_without_mixing_their_events()
    {
        // The serializer reuses its row buffers: a buffer handed out twice at once would mix two writes' events.
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);
        var writers = Enumerable.Range(0, 8).Select(writer => Task.Run(() =>
        {
            for (var round = 0; round < 200; round++)
            {
                var size = 1 + (writer * 37 + round * 11) % 300;
                var batch = new SpoolBatch(Enumerable.Range(0, size).Select(i => new SpooledEvent($"{writer}-{round}-{i}", "wk", "user", "track",
                    Encoding.UTF8.GetBytes($$"""{"writer":{{writer}},"round":{{round}},"i":{{i}},"event":"Viewed"}"""))).ToList());
                var copy = (SpoolBatch)serializer.FromBinary(serializer.ToBinary(batch), typeof(SpoolBatch));
                Assert.Equal(batch.Events.Select(e => e.MessageId), copy.Events.Select(e => e.MessageId));
                Assert.Equal(batch.Events.Select(e => Convert.ToHexString(e.Payload)), copy.Events.Select(e => Convert.ToHexString(e.Payload)));
            }
        })).ToList();

        await Task.WhenAll(writers);
    }

    [Fact]
    public void Should_keep_a_row_uncompressed_when_compression_would_not_shorten_it()
    {
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);
        var noise = new byte[4096];
        new Random(7).NextBytes(noise);
        var batch = new SpoolBatch([new SpooledEvent("id-1", "wk", "user", "track", noise)]);

        var row = serializer.ToBinary(batch);
        var copy = (SpoolBatch)serializer.FromBinary(row, typeof(SpoolBatch));

        Assert.Equal(2, row[0]);
        Assert.Equal(noise, copy.Events[0].Payload);
    }

    [Fact]
    public void Should_refuse_a_compressed_row_that_was_cut_short_or_claims_more_than_it_can_hold()
    {
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);
        var batch = new SpoolBatch(Enumerable.Range(0, 50).Select(i => new SpooledEvent($"id-{i}", "wk", "user", "track", Encoding.UTF8.GetBytes($$"""{"event":"Viewed","n":{{i}}}"""))).ToList());
        var row = serializer.ToBinary(batch);
        Assert.Equal(3, row[0]);

        var cutShort = row[..^8];
        var claimsTooMuch = (byte[])row.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(claimsTooMuch.AsSpan(1), int.MaxValue);
        var claimsTooLittle = (byte[])row.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(claimsTooLittle.AsSpan(1), 10);

        Assert.Throws<SerializationException>(() => serializer.FromBinary(cutShort, typeof(SpoolBatch)));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(claimsTooMuch, typeof(SpoolBatch)));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(claimsTooLittle, typeof(SpoolBatch)));
        Assert.Throws<SerializationException>(() => serializer.FromBinary([3, 1, 0], typeof(SpoolBatch)));
    }

    [Fact]
    public void Should_refuse_a_format_it_does_not_know()
    {
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);
        Assert.Throws<SerializationException>(() => serializer.FromBinary([99, 0, 0, 0, 0], typeof(SpoolBatch)));
    }

    [Fact]
    public void Should_route_one_user_to_one_partition_in_every_process()
    {
        // FNV-1a is fixed: these values must not change between releases, or a restart would reorder a user's events.
        Assert.Equal(4, Spool.PartitionOf("wk", "user-1", 8));
        Assert.Equal(20, Spool.PartitionOf("wk", "user-1", 32));
        var spread = Enumerable.Range(0, 1000).Select(i => Spool.PartitionOf("wk", $"user-{i}", 8)).Distinct().Count();
        Assert.Equal(8, spread);
    }
}
