using System.Text;
using AkkaCollector.LiveEvents;
using Microsoft.Extensions.Time.Testing;

namespace AkkaCollector.Tests.LiveEvents;

/// <summary>The live events view's memory: bounded per write key and in write keys, recording only while someone looks.</summary>
public sealed class LiveEventsRecorderTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Should_record_nothing_until_someone_looks_and_stop_a_watch_window_after_the_last_look()
    {
        var recorder = new LiveEventsRecorder(new LiveEventsOptions { WatchWindow = TimeSpan.FromMinutes(1) }, _clock);
        var unwatched = recorder.IsRecording;

        recorder.Read();
        var watched = recorder.IsRecording;
        _clock.Advance(TimeSpan.FromSeconds(61));

        Assert.False(unwatched);
        Assert.True(watched);
        Assert.False(recorder.IsRecording);
    }

    [Fact]
    public void Should_never_record_when_the_view_is_off()
    {
        var recorder = Recorder(new LiveEventsOptions { Enabled = false });

        recorder.Read();

        Assert.False(recorder.IsRecording);
    }

    [Fact]
    public void Should_keep_the_newest_entries_per_write_key_newest_first_and_mark_the_ones_Kafka_confirmed()
    {
        var recorder = Recorder(new LiveEventsOptions { EventsPerWriteKey = 3 });
        for (var i = 1; i <= 5; i++)
            recorder.RecordStored("key-a", $"m{i}", "track", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"));
        recorder.RecordRejected("key-a", "/v1/track", 400, "userId or anonymousId is required", "userId");
        recorder.MarkDelivered("m5");
        recorder.MarkDelivered("m1");

        var entries = Assert.Single(recorder.Read().WriteKeys).Entries;

        Assert.Equal(["rejected", "stored", "stored"], entries.Select(e => e.Kind));
        Assert.Equal([null, "m5", "m4"], entries.Select(e => e.MessageId));
        Assert.Equal([false, true, false], entries.Select(e => e.Delivered));
        Assert.Equal(("/v1/track", 400, "userId or anonymousId is required", "userId"), (entries[0].Route, entries[0].Status!.Value, entries[0].Error, entries[0].Field));
        Assert.Equal("{\"n\":5}", entries[1].Payload);
    }

    [Fact]
    public void Should_bound_the_write_keys_dropping_the_one_seen_longest_ago()
    {
        var recorder = Recorder(new LiveEventsOptions { WriteKeys = 2 });
        recorder.RecordStored("old", "m1", "track", "{}"u8);
        recorder.RecordStored("middle", "m2", "track", "{}"u8);
        recorder.RecordStored("new", "m3", "track", "{}"u8);
        recorder.MarkDelivered("m1");

        var snapshot = recorder.Read();

        Assert.Equal(["new", "middle"], snapshot.WriteKeys.Select(k => k.WriteKey));
    }

    [Fact]
    public void Should_cut_a_long_payload_at_the_bound_and_say_so()
    {
        var recorder = Recorder(new LiveEventsOptions { MaxEventBytes = 256 });

        recorder.RecordStored("key", "m1", "track", Encoding.UTF8.GetBytes(new string('x', 1000)));

        var entry = Assert.Single(Assert.Single(recorder.Read().WriteKeys).Entries);
        Assert.True(entry.PayloadCut);
        Assert.Equal(new string('x', 256), entry.Payload);
    }

    // A recorder someone is looking at.
    private LiveEventsRecorder Recorder(LiveEventsOptions options)
    {
        var recorder = new LiveEventsRecorder(options, _clock);
        recorder.Read();
        return recorder;
    }
}
