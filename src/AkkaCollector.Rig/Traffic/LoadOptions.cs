using System.Net;

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

    /// <summary>
    /// How long a request is sent again after a 5xx or no answer at all, with the same messageIds, as the SDKs do; a 4xx
    /// is final. Zero sends each request once, so that every refusal shows in the ledger as the producer first saw it.
    /// </summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.Zero;

    /// <summary>The pause before a request is sent again.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Extra bytes in each event (a top-level <c>padding</c> field), to fill a spool with fewer events.</summary>
    public int PaddingBytes { get; init; }

    /// <summary>The one device every request comes from (X-Forwarded-For); null spreads them over the rig's addresses.</summary>
    public string? ClientAddress { get; init; }

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
        if (GiveUpAfter < TimeSpan.Zero || GiveUpAfter > LongestDuration)
            throw new ArgumentException($"The time to give up after must be between 0 and {LongestDuration}, not {GiveUpAfter}.");
        if (RetryDelay <= TimeSpan.Zero || RetryDelay > TimeSpan.FromMinutes(1))
            throw new ArgumentException($"The retry delay must be positive and at most a minute, not {RetryDelay}.");
        if (PaddingBytes is < 0 or > 1 << 20)
            throw new ArgumentException($"The padding must be between 0 and 1 MiB, not {PaddingBytes} bytes.");
        if (ClientAddress is not null && !IPAddress.TryParse(ClientAddress, out _))
            throw new ArgumentException($"The client address must be an IP address, not '{ClientAddress}'.");
    }
}
