namespace AkkaCollector.Rig.Bench;

/// <summary>
/// <c>noop-host --urls URL</c>: the benchmark's HTTP ceiling. It reads each body exactly as the tracking API does and
/// answers what a stored request is answered, but parses, validates, spools and counts nothing. What it reaches is
/// what Kestrel and the body read alone allow on this machine; the collector's routes are measured against it.
/// </summary>
public static class NoopHostVerb
{
    public const string Name = "noop-host";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken stop)
    {
        await ReferenceHost.RunAsync(new CommandLine(args, ["urls"], []), _ => Task.CompletedTask, stop);
        return 0;
    }
}
