using System.Net;
using System.Text;
using System.Text.Json;
using AkkaCollector.Ingress;
using AkkaCollector.Lookups;

namespace AkkaCollector.Tests.Ingress;

public sealed class EventWriterTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2024, 5, 1, 10, 0, 0, 250, TimeSpan.Zero);

    [Fact]
    public void Should_merge_the_batch_context_under_the_events_own_context()
    {
        var payload = WriteOne(IngressRoute.Batch, """
            {"context":{"locale":"en-GB","library":{"name":"go"}},
             "batch":[{"type":"track","event":"e","userId":"u","context":{"locale":"fr-FR","page":{"path":"/"}}}]}
            """);

        var context = payload.GetProperty("context");
        Assert.Equal("fr-FR", context.GetProperty("locale").GetString());
        Assert.Equal("go", context.GetProperty("library").GetProperty("name").GetString());
        Assert.Equal("/", context.GetProperty("page").GetProperty("path").GetString());
        Assert.Equal(3, context.EnumerateObject().Count());
    }

    [Fact]
    public void Should_give_the_batch_sentAt_only_to_events_without_their_own()
    {
        using var request = Parse(IngressRoute.Batch, """
            {"sentAt":"2024-05-01T09:00:00Z","batch":[
              {"type":"track","event":"e","userId":"u"},
              {"type":"track","event":"e","userId":"u","sentAt":"2024-05-01T08:00:00Z"}]}
            """);

        var events = EventWriter.Write(request, new Enrichment(ReceivedAt, null, null, false));

        Assert.Equal(["2024-05-01T09:00:00Z", "2024-05-01T08:00:00Z"],
            events.Select(e => Bodies.Json(e.Payload).GetProperty("sentAt").GetString()));
    }

    [Fact]
    public void Should_replace_the_producers_ip_and_location_with_what_the_collector_resolved()
    {
        var geo = new GeoLocation("SE", null, "Linköping", 58.41, null, null);

        var payload = WriteOne(IngressRoute.Track, """{"userId":"u","event":"e","context":{"ip":"1.1.1.1","location":{"city":"Nowhere"}}}""",
            IPAddress.Parse("89.160.20.112"), geo);

        var context = payload.GetProperty("context");
        Assert.Equal("89.160.20.112", context.GetProperty("ip").GetString());
        Assert.Equal("""{"city":"Linköping","countryCode":"SE","latitude":58.41}""", context.GetProperty("location").GetRawText());
        Assert.Single(context.EnumerateObject(), p => p.Name == "ip");
    }

    [Fact]
    public void Should_keep_the_producers_ip_when_the_collector_knows_no_peer()
    {
        var payload = WriteOne(IngressRoute.Track, """{"userId":"u","event":"e","context":{"ip":"1.1.1.1"}}""");

        Assert.Equal("1.1.1.1", payload.GetProperty("context").GetProperty("ip").GetString());
    }

    [Fact]
    public void Should_copy_the_producers_fields_byte_for_byte_and_write_the_collectors_own_once()
    {
        var payload = WriteOne(IngressRoute.Track,
            """{"type":"identify","writeKey":"secret","receivedAt":"1999-01-01T00:00:00Z","userId":"u","event":"e","properties":{"price":1.50,"tags":["a"]}}""");

        Assert.Equal("""{"price":1.50,"tags":["a"]}""", payload.GetProperty("properties").GetRawText());
        Assert.Equal("track", payload.GetProperty("type").GetString());
        Assert.Equal("2024-05-01T10:00:00.250Z", payload.GetProperty("receivedAt").GetString());
        Assert.False(payload.TryGetProperty("writeKey", out _));
        Assert.Equal(1, payload.EnumerateObject().Count(p => p.Name == "type"));
        Assert.Equal(1, payload.EnumerateObject().Count(p => p.Name == "receivedAt"));
    }

    [Fact]
    public void Should_write_escaped_names_unescaped_once_and_keep_escaped_values_meaning_what_they_meant()
    {
        var payload = WriteOne(IngressRoute.Batch, """
            {"context":{"l\u006fcale":"en-GB","timezone":"UTC","app":{"name":"a"}},
             "batch":[{"type":"track","event":"e","userId":"u","write\u004bey":"wk","received\u0041t":"2000-01-01T00:00:00Z",
                       "prop\"s":{"q\\uote":"say \"hi\" \u00e9\ud83d\ude00", "n" : [ 1 , 2.50 ]},
                       "context":{"locale":"fr-FR","time\u007aone":"CET","app\u0020id":"x"}}]}
            """);

        var properties = payload.GetProperty("prop\"s");
        Assert.Equal("say \"hi\" \u00e9\U0001F600", properties.GetProperty("q\\uote").GetString());
        Assert.Equal([1m, 2.50m], properties.GetProperty("n").EnumerateArray().Select(n => n.GetDecimal()));
        var context = payload.GetProperty("context");
        Assert.Equal("fr-FR", Assert.Single(context.EnumerateObject(), p => p.Name == "locale").Value.GetString());
        Assert.Equal("CET", Assert.Single(context.EnumerateObject(), p => p.Name == "timezone").Value.GetString());
        Assert.Equal("x", context.GetProperty("app id").GetString());
        Assert.Equal("a", context.GetProperty("app").GetProperty("name").GetString());
        // Names the collector writes itself, or never writes, are known however they are spelled.
        Assert.False(payload.TryGetProperty("writeKey", out _));
        Assert.Equal("2024-05-01T10:00:00.250Z", Assert.Single(payload.EnumerateObject(), p => p.Name == "receivedAt").Value.GetString());
    }

    private static JsonElement WriteOne(IngressRoute route, string json, IPAddress? client = null, GeoLocation? geo = null)
    {
        using var request = Parse(route, json);
        var spooled = Assert.Single(EventWriter.Write(request, new Enrichment(ReceivedAt, client, geo, false)));
        return Bodies.Json(spooled.Payload);
    }

    private static ParsedRequest Parse(IngressRoute route, string json)
    {
        Assert.True(EventParser.Parse(Encoding.UTF8.GetBytes(json), route, "Basic d2s6", new IngressOptions()).TryGetValue(out var request, out var error), error?.Error);
        return request;
    }
}
