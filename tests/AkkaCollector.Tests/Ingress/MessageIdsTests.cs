using AkkaCollector.Ingress;

namespace AkkaCollector.Tests.Ingress;

/// <summary>The messageIds the collector gives events sent without one.</summary>
public sealed class MessageIdsTests
{
    private static readonly DateTimeOffset At = new(2024, 5, 1, 10, 0, 0, 250, TimeSpan.Zero);

    [Fact]
    public void Should_read_back_as_a_version_7_uuid_carrying_the_arrival_time()
    {
        var id = Guid.ParseExact(MessageIds.NewVersion7(At), "N");

        Assert.Equal(7, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
        Assert.Equal(At.ToUnixTimeMilliseconds(), Convert.ToInt64(id.ToString("N")[..12], 16));
    }

    [Fact]
    public void Should_write_the_form_guid_gives_a_version_7_uuid()
    {
        var ours = MessageIds.NewVersion7(At);
        var guids = Guid.CreateVersion7(At).ToString("N");

        Assert.Equal(guids[..12], ours[..12]);
        Assert.Matches("^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$", ours);
    }

    [Fact]
    public void Should_never_repeat_across_many_draws_from_the_os()
    {
        var ids = Enumerable.Range(0, 5_000).Select(_ => MessageIds.NewVersion7(At)).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Should_order_ids_by_arrival_to_the_millisecond()
    {
        var earlier = MessageIds.NewVersion7(At);
        var later = MessageIds.NewVersion7(At.AddMilliseconds(1));

        Assert.True(string.CompareOrdinal(earlier, later) < 0);
    }
}
