using AkkaCollector.Rig.Traffic;
using AkkaCollector.Rig.Verification;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>The rig's one producer (<see cref="LoadGenerator"/> recording into a <see cref="Ledger"/>) pointed at one collector, as the stories use it.</summary>
internal static class Producer
{
    /// <summary>How long a request that got a 5xx or no answer is sent again with the same messageIds, as the SDKs do.</summary>
    public static readonly TimeSpan SdkRetries = TimeSpan.FromSeconds(30);

    // The stories end by their event count or their stop token; this bound only keeps a stuck one from running on.
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(10);

    /// <summary><paramref name="events"/> events as fast as <paramref name="concurrency"/> requests in flight get answers, each retried for <see cref="SdkRetries"/>.</summary>
    public static LoadOptions Sending(long events, int concurrency) => new()
    {
        Rate = 0,
        Concurrency = concurrency,
        MaxEvents = events,
        Duration = Bound,
        GiveUpAfter = SdkRetries,
    };

    /// <summary>A producer sending to <paramref name="collector"/> only, with messageIds no other test shares.</summary>
    public static LoadGenerator To(CollectorProcess collector, Ledger ledger, LoadOptions options) =>
        new(options, new TargetPool([new Uri(collector.BaseUrl)]), ledger, $"t{Guid.NewGuid():N}"[..9]);
}
