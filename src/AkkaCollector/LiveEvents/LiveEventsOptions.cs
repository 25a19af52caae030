using System.ComponentModel.DataAnnotations;

namespace AkkaCollector.LiveEvents;

/// <summary>
/// The live events view (<c>LiveEvents:*</c>): the newest events per write key as stored, marked once Kafka confirmed
/// them, with rejected requests beside them. Its memory is bounded by
/// <see cref="WriteKeys"/> x <see cref="EventsPerWriteKey"/> x <see cref="MaxEventBytes"/> (2 MiB with the defaults).
/// </summary>
public sealed class LiveEventsOptions
{
    public const string Section = "LiveEvents";

    /// <summary>On by default for trying the collector; the production profile turns it off (payloads are user data).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Entries (stored events and rejected requests) kept per write key; older ones are dropped.</summary>
    [Range(1, 1000)]
    public int EventsPerWriteKey { get; set; } = 50;

    /// <summary>Write keys kept at once; the one seen longest ago makes room for a new one.</summary>
    [Range(1, 1000)]
    public int WriteKeys { get; set; } = 20;

    /// <summary>Bytes of one event's JSON kept for the view; a longer payload is cut (and marked so).</summary>
    [Range(256, 1 << 20)]
    public int MaxEventBytes { get; set; } = 2048;

    /// <summary>
    /// Recording runs only while someone looks: it starts when the view is read and stops this long after the last
    /// read, so a collector nobody watches pays one clock read per request.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan WatchWindow { get; set; } = TimeSpan.FromMinutes(1);
}
