using Akka.Actor;
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
    public void Should_refuse_a_format_it_does_not_know()
    {
        var serializer = new SpoolBatchSerializer((ExtendedActorSystem)Sys);
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([99, 0, 0, 0, 0], typeof(SpoolBatch)));
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
