using AkkaCollector.Spooling;

namespace AkkaCollector.Tests.Spooling;

/// <summary>
/// The de-duplication window's stored ids (a ring and an open-addressing index in native memory): a wrong answer
/// either drops a new event (lost) or keeps a retried one (a duplicate), so it is checked against the plain model it
/// replaced, a set and a queue, over many turns of the ring.
/// </summary>
public sealed class StoredIdsTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(7, 0)]
    [InlineData(1000, 0)]
    // Ids whose low bits repeat often: long probe runs that wrap around the index and close up as the oldest go.
    [InlineData(64, 0x3F)]
    [InlineData(1000, 0xFF)]
    public void Should_answer_as_a_set_of_the_newest_ids_while_the_ring_turns_over(int capacity, int lowBits)
    {
        var random = new Random(capacity * 31 + lowBits);
        var stored = new StoredIds(capacity);
        var model = new HashSet<UInt128>();
        var order = new Queue<UInt128>();
        var seen = new List<UInt128>();

        for (var step = 0; step < 20 * capacity + 2000; step++)
        {
            // Half the time an id seen before (stored or already forgotten), else a new one.
            var id = seen.Count > 0 && random.Next(2) == 0 ? seen[random.Next(seen.Count)] : NewId(random, lowBits);
            Assert.Equal(model.Contains(id), stored.Contains(id));
            if (model.Contains(id))
                continue;
            stored.Add(id);
            model.Add(id);
            order.Enqueue(id);
            seen.Add(id);
            if (order.Count > capacity)
                model.Remove(order.Dequeue());
            Assert.Equal(model.Count, stored.Count);
        }
        Assert.All(seen, id => Assert.Equal(model.Contains(id), stored.Contains(id)));
    }

    private static UInt128 NewId(Random random, int lowBits)
    {
        var upper = (ulong)random.NextInt64();
        var lower = (ulong)random.NextInt64();
        return new UInt128(upper, lowBits == 0 ? lower : lower & (ulong)lowBits);
    }
}
