namespace AkkaCollector.Rig.Bench;

/// <summary>
/// <c>floor-host --urls URL --journal FILE --kafka SERVERS --topic TOPIC</c>: the benchmark's durable floor. Each body is
/// parsed, group-committed to a SQLite journal and answered after the commit, then handed to Kafka
/// (<see cref="DurableFloor"/>). It is the least a collector that stores before it answers must do per event with the
/// collector's own libraries, and nothing of the collector's structure: so the share of a single event's cost that any
/// design would pay shows beside the share that is the collector's own.
/// </summary>
public static class FloorHostVerb
{
    public const string Name = "floor-host";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken stop)
    {
        var line = new CommandLine(args, ["urls", "journal", "kafka", "topic"], []);
        await using var floor = new DurableFloor(
            line.Text("journal") ?? throw new ArgumentException("floor-host needs --journal FILE"),
            line.Text("kafka") ?? throw new ArgumentException("floor-host needs --kafka HOST:PORT"),
            line.Text("topic") ?? throw new ArgumentException("floor-host needs --topic NAME"));
        await ReferenceHost.RunAsync(line, floor.StoreAsync, stop);
        return 0;
    }
}
