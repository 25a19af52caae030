using AkkaCollector.Spooling;

namespace AkkaCollector.Tests.Spooling;

public sealed class SpoolIdTests
{
    [Theory]
    [InlineData("collector-0", 3, "spool-collector-0-3")]
    [InlineData("host.example.com", 0, "spool-host.example.com-0")]
    [InlineData("7", 12, "spool-7-12")]
    public void Should_name_a_spool_by_instance_and_partition_and_read_the_name_back(string instance, int partition, string persistenceId)
    {
        var spool = new SpoolId(instance, partition);

        Assert.Equal(persistenceId, spool.PersistenceId);
        Assert.Equal(spool, SpoolId.Parse(persistenceId));
    }

    [Fact]
    public void Should_read_a_spool_written_before_instance_ids_as_one_of_no_instance() =>
        Assert.Equal(new SpoolId("", 5), SpoolId.Parse("spool-5"));

    [Theory]
    [InlineData("journal-1")]
    [InlineData("spool-")]
    [InlineData("spool-a-")]
    [InlineData("spool-a-256")]
    [InlineData("spool-a b-1")]
    [InlineData("spool--1")]
    public void Should_not_take_what_is_not_a_spool_for_one(string persistenceId) =>
        Assert.Null(SpoolId.Parse(persistenceId));
}
