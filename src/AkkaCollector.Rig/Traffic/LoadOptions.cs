namespace AkkaCollector.Rig.Traffic;

/// <summary>What traffic to generate. Every run is bounded twice: by <see cref="Duration"/> and by <see cref="MaxEvents"/>.</summary>
public sealed record LoadOptions
{
    /// <summary>The longest run accepted: the rig is a test tool, not a soak harness left running by accident.</summary>
    public static readonly TimeSpan LongestDuration = TimeSpan.FromHours(1);

    /// <summary>The most events accepted in one run.</summary>
    public const long MostEvents = 50_000_000;

    /// <summary>Events per second across all workers; 0 sends as fast as the collectors answer.</summary>
    public double Rate { get; init; } = 500;

    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>Events per request: 1 posts each to /v1/track|page|identify, more posts /v1/batch.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>How long to send for.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop after this many events even if <see cref="Duration"/> has not passed.</summary>
    public long MaxEvents { get; init; } = 1_000_000;

    /// <summary>Distinct users the events come from.</summary>
    public int Users { get; init; } = 10_000;

    /// <summary>Distinct write keys (apps).</summary>
    public int WriteKeys { get; init; } = 50;

    /// <summary>How long one request may take before it counts as a timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws when a bound is missing or out of range.</summary>
    public void Validate()
    {
        if (Duration <= TimeSpan.Zero || Duration > LongestDuration)
            throw new ArgumentException($"The duration must be between 0 and {LongestDuration}, not {Duration}.");
        if (MaxEvents is < 1 or > MostEvents)
            throw new ArgumentException($"The event count must be between 1 and {MostEvents}, not {MaxEvents}.");
        if (Rate < 0 || double.IsNaN(Rate))
            throw new ArgumentException($"The rate must be 0 (as fast as possible) or positive, not {Rate}.");
        if (Concurrency is < 1 or > 1024)
            throw new ArgumentException($"The concurrency must be between 1 and 1024, not {Concurrency}.");
        if (BatchSize is < 1 or > 1000)
            throw new ArgumentException($"The batch size must be between 1 and 1000, not {BatchSize}.");
        if (RequestTimeout <= TimeSpan.Zero)
            throw new ArgumentException("The request timeout must be positive.");
    }
}
