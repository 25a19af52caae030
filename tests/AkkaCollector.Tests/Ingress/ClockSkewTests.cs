using System.Text;
using System.Text.Json;
using AkkaCollector.Ingress;

namespace AkkaCollector.Tests.Ingress;

/// <summary>Segment's clock-skew rule: timestamp = receivedAt - (sentAt - originalTimestamp), the client's time kept as originalTimestamp.</summary>
public sealed class ClockSkewTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2024, 5, 1, 10, 0, 0, 250, TimeSpan.Zero);

    [Fact]
    public void Should_move_a_fast_client_clock_back_to_the_servers_time_keeping_the_clients_as_originalTimestamp()
    {
        // The phone's clock is 1 h 5 min fast: it says the event happened at 11:05:00 and was sent at 11:05:03.
        var payload = WriteOne(IngressRoute.Track,
            """{"userId":"u","event":"e","timestamp":"2024-05-01T11:05:00.000Z","sentAt":"2024-05-01T11:05:03.000Z"}""");

        Assert.Equal("2024-05-01T11:05:00.000Z", payload.GetProperty("originalTimestamp").GetString());
        Assert.Equal(ReceivedAt.AddSeconds(-3).UtcDateTime, payload.GetProperty("timestamp").GetDateTime());
        Assert.Equal("2024-05-01T11:05:03.000Z", payload.GetProperty("sentAt").GetString());
        Assert.Equal(1, payload.EnumerateObject().Count(p => p.Name == "timestamp"));
        Assert.Equal(1, payload.EnumerateObject().Count(p => p.Name == "originalTimestamp"));
    }

    [Fact]
    public void Should_use_the_batch_sentAt_for_every_event_of_a_batch()
    {
        // analytics.js's batching dispatcher and the mobile SDKs put one sentAt on the batch, none on the events.
        using var request = Parse(IngressRoute.Batch, """
            {"sentAt":"2024-05-01T09:00:10.000+00:00","batch":[
              {"type":"track","event":"a","userId":"u","timestamp":"2024-05-01T09:00:00.000Z"},
              {"type":"track","event":"b","userId":"u","timestamp":"2024-05-01T10:59:00.000+02:00"}]}
            """);

        var events = EventWriter.Write(request, new Enrichment(ReceivedAt, null, null, false));

        Assert.Equal([ReceivedAt.AddSeconds(-10).UtcDateTime, ReceivedAt.AddSeconds(-70).UtcDateTime],
            events.Select(e => Bodies.Json(e.Payload).GetProperty("timestamp").GetDateTime().ToUniversalTime()));
        Assert.Equal("2024-05-01T10:59:00.000+02:00", Bodies.Json(events[1].Payload).GetProperty("originalTimestamp").GetString());
    }

    [Fact]
    public void Should_prefer_the_events_own_sentAt_to_its_batch_sentAt()
    {
        using var request = Parse(IngressRoute.Batch, """
            {"sentAt":"2024-05-01T09:00:10.000Z","batch":[
              {"type":"track","event":"a","userId":"u","timestamp":"2024-05-01T09:00:00.000Z","sentAt":"2024-05-01T09:00:01.000Z"}]}
            """);

        var payload = Bodies.Json(Assert.Single(EventWriter.Write(request, new Enrichment(ReceivedAt, null, null, false))).Payload);

        Assert.Equal(ReceivedAt.AddSeconds(-1).UtcDateTime, payload.GetProperty("timestamp").GetDateTime().ToUniversalTime());
    }

    [Fact]
    public void Should_base_the_correction_on_an_originalTimestamp_the_client_sent()
    {
        // RudderStack's SDKs send originalTimestamp (the client's time) and sentAt, no timestamp.
        var payload = WriteOne(IngressRoute.Track,
            """{"anonymousId":"a","event":"e","originalTimestamp":"2024-05-01T08:00:00.000Z","sentAt":"2024-05-01T08:00:05.000Z"}""");

        Assert.Equal("2024-05-01T08:00:00.000Z", payload.GetProperty("originalTimestamp").GetString());
        Assert.Equal(ReceivedAt.AddSeconds(-5).UtcDateTime, payload.GetProperty("timestamp").GetDateTime().ToUniversalTime());
    }

    [Fact]
    public void Should_keep_the_timestamp_as_sent_without_sentAt()
    {
        // A server SDK importing history sets timestamp and no sentAt: that timestamp is the truth.
        var payload = WriteOne(IngressRoute.Track, """{"userId":"u","event":"e","timestamp":"2019-01-01T00:00:00Z"}""");

        Assert.Equal("2019-01-01T00:00:00Z", payload.GetProperty("timestamp").GetString());
        Assert.False(payload.TryGetProperty("originalTimestamp", out _));
    }

    [Fact]
    public void Should_write_no_timestamp_when_the_client_sent_only_sentAt()
    {
        var payload = WriteOne(IngressRoute.Track, """{"userId":"u","event":"e","sentAt":"2024-05-01T08:00:05.000Z"}""");

        Assert.False(payload.TryGetProperty("timestamp", out _));
        Assert.False(payload.TryGetProperty("originalTimestamp", out _));
    }

    [Fact]
    public void Should_leave_an_event_whose_clock_is_off_the_calendar_as_sent_rather_than_fail()
    {
        var payload = WriteOne(IngressRoute.Track,
            """{"userId":"u","event":"e","timestamp":"0001-01-01T00:00:00Z","sentAt":"9999-12-31T23:59:59Z"}""");

        Assert.Equal("0001-01-01T00:00:00Z", payload.GetProperty("timestamp").GetString());
    }

    [Fact]
    public void Should_keep_an_events_null_sentAt_and_correct_its_clock_by_its_batch_sentAt()
    {
        // A null sentAt is the producer's own property: copied as sent, so the batch's sentAt is not added beside it.
        using var request = Parse(IngressRoute.Batch, """
            {"sentAt":"2024-05-01T09:00:10.000Z","batch":[
              {"type":"track","event":"a","userId":"u","timestamp":"2024-05-01T09:00:00.000Z","sentAt":null}]}
            """);

        var payload = Bodies.Json(Assert.Single(EventWriter.Write(request, new Enrichment(ReceivedAt, null, null, false))).Payload);

        Assert.Equal(ReceivedAt.AddSeconds(-10).UtcDateTime, payload.GetProperty("timestamp").GetDateTime().ToUniversalTime());
        Assert.Equal(JsonValueKind.Null, Assert.Single(payload.EnumerateObject(), p => p.Name == "sentAt").Value.ValueKind);
    }

    [Fact]
    public void Should_keep_a_heap_events_timestamp_as_sent_unless_a_sentAt_comes_with_it()
    {
        // Heap's API has no sentAt; one a producer adds anyway counts as a Segment event's would.
        var asSent = WriteOne(IngressRoute.HeapTrack, """{"identity":"u","event":"e","timestamp":"2024-05-01T09:00:00.000Z"}""");
        var corrected = WriteOne(IngressRoute.HeapTrack,
            """{"identity":"u","event":"e","timestamp":"2024-05-01T09:00:00.000Z","sentAt":"2024-05-01T09:00:02.000Z"}""");

        Assert.Equal("2024-05-01T09:00:00.000Z", asSent.GetProperty("timestamp").GetString());
        Assert.False(asSent.TryGetProperty("originalTimestamp", out _));
        Assert.Equal(ReceivedAt.AddSeconds(-2).UtcDateTime, corrected.GetProperty("timestamp").GetDateTime().ToUniversalTime());
        Assert.Equal("2024-05-01T09:00:00.000Z", corrected.GetProperty("originalTimestamp").GetString());
    }

    [Fact]
    public void Should_leave_a_heap_event_as_sent_when_its_unchecked_originalTimestamp_is_no_date()
    {
        // Heap's API does not know originalTimestamp, so the parser lets any value through; a string that names no
        // date-time stops the correction rather than being passed over for timestamp.
        var payload = WriteOne(IngressRoute.HeapTrack,
            """{"identity":"u","event":"e","timestamp":"2024-05-01T09:00:00.000Z","originalTimestamp":"yesterday","sentAt":"2024-05-01T09:00:02.000Z"}""");

        Assert.Equal("2024-05-01T09:00:00.000Z", payload.GetProperty("timestamp").GetString());
        Assert.Equal("yesterday", payload.GetProperty("originalTimestamp").GetString());
    }

    private static JsonElement WriteOne(IngressRoute route, string json)
    {
        using var request = Parse(route, json);
        return Bodies.Json(Assert.Single(EventWriter.Write(request, new Enrichment(ReceivedAt, null, null, false))).Payload);
    }

    private static ParsedRequest Parse(IngressRoute route, string json)
    {
        Assert.True(EventParser.Parse(Encoding.UTF8.GetBytes(json), route, "Basic d2s6", new IngressOptions()).TryGetValue(out var request, out var error), error?.Error);
        return request;
    }
}
