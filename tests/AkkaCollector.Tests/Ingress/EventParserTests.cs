using System.Text;
using AkkaCollector.Ingress;

namespace AkkaCollector.Tests.Ingress;

public sealed class EventParserTests
{
    private static readonly IngressOptions Options = new() { MaxBatchEvents = 3, MaxEventBytes = 200, MaxRequestBytes = 2000 };

    [Fact]
    public void Should_take_the_write_key_from_basic_auth_before_the_body()
    {
        using var request = Accepted(Parse(IngressRoute.Track, """{"writeKey":"from-body","userId":"u","event":"e"}""", Basic("from-header")));

        Assert.Equal("from-header", request.WriteKey);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer abc")]
    public void Should_take_the_write_key_from_the_body_without_basic_auth(string? authorization)
    {
        using var request = Accepted(Parse(IngressRoute.Track, """{"writeKey":"from-body","userId":"u","event":"e"}""", authorization));

        Assert.Equal("from-body", request.WriteKey);
    }

    [Theory]
    [InlineData("Basic d2stMTo=", "wk-1")]
    [InlineData("basic  d2s6cHc6eA==  ", "wk")]
    [InlineData("Basic w7xtbGF1dC1rZXk6", "ümlaut-key")]
    [InlineData("Basic YWJj ZA==", "abcd")]
    public void Should_take_the_username_of_basic_credentials_as_the_write_key(string authorization, string writeKey)
    {
        Assert.True(BasicCredentials.TryReadUsername(authorization, out var username));

        Assert.Equal(writeKey, username);
    }

    [Fact]
    public void Should_answer_401_to_basic_credentials_that_are_not_base64()
    {
        var error = Refused(Parse(IngressRoute.Track, """{"userId":"u","event":"e"}""", "Basic %%%"));

        Assert.Equal((401, "Authorization"), (error.StatusCode, error.Field));
    }

    [Fact]
    public void Should_treat_a_null_userId_as_absent_and_key_the_event_by_anonymousId()
    {
        using var request = Accepted(Parse(IngressRoute.Page, """{"userId":null,"anonymousId":"anon-1","name":"Home"}"""));

        Assert.Equal(("page", "anon-1"), (request.Events[0].Type, request.Events[0].PartitionKey));
    }

    [Theory]
    [InlineData("2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01T10:00:00.123+02:00")]
    [InlineData("2024-05-01T10:00:00.1234567")]
    public void Should_accept_ISO_8601_timestamps(string timestamp)
    {
        using var request = Accepted(Parse(IngressRoute.Track, $$"""{"userId":"u","event":"e","timestamp":"{{timestamp}}"}"""));

        Assert.Single(request.Events);
    }

    [Fact]
    public void Should_name_the_batch_item_and_field_that_is_wrong()
    {
        var error = Refused(Parse(IngressRoute.Batch, """{"batch":[{"type":"track","event":"e","userId":"u"},{"type":"group","userId":"u","groupId":7}]}"""));

        Assert.Equal((400, "batch[1].groupId"), (error.StatusCode, error.Field));
    }

    [Fact]
    public void Should_refuse_a_batch_over_the_configured_count()
    {
        var error = Refused(Parse(IngressRoute.Batch, Bodies.Batch(4)));

        Assert.Equal((400, "batch"), (error.StatusCode, error.Field));
        Assert.Contains("at most 3", error.Error);
    }

    [Fact]
    public void Should_accept_a_batch_of_exactly_the_configured_count()
    {
        using var request = Accepted(Parse(IngressRoute.Batch, Bodies.Batch(3)));

        Assert.Equal(["u0", "u1", "u2"], request.Events.Select(e => e.PartitionKey));
    }

    [Fact]
    public void Should_answer_413_for_a_single_event_over_the_event_limit()
    {
        var error = Refused(Parse(IngressRoute.Track, Bodies.Track(extra: Bodies.Padding(200))));

        Assert.Equal(413, error.StatusCode);
    }

    [Fact]
    public void Should_answer_400_to_bytes_that_are_not_UTF_8()
    {
        var body = Encoding.UTF8.GetBytes("""{"userId":"u","event":"e?"}""");
        body[^3] = 0xFF;

        var error = Refused(EventParser.Parse(body, IngressRoute.Track, Basic("wk"), Options));

        Assert.Equal(400, error.StatusCode);
    }

    [Theory]
    [InlineData("""{"userId":"u","event":"\uD800"}""")]
    [InlineData("""{"userId":"u","event":"\uDC00x"}""")]
    [InlineData("""{"userId":"u","event":"e","properties":{"\uD83D?":1}}""")]
    [InlineData("""{"userId":"u","event":"e","properties":{"a":"\uD83D\n\uDE00"}}""")]
    public void Should_answer_400_to_an_escape_naming_half_a_surrogate_pair(string json)
    {
        var error = Refused(Parse(IngressRoute.Track, json));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("surrogate", error.Error);
    }

    [Theory]
    [InlineData("""{"userId":"u","event":"\uD83D\uDE00"}""")]
    [InlineData("""{"userId":"u","event":"\\uD800"}""")]
    [InlineData("""{"userId":"u","event":"tab\there \u00e9 \"q\" \\"}""")]
    public void Should_accept_escapes_that_are_whole_characters(string json)
    {
        using var request = Accepted(Parse(IngressRoute.Track, json));

        Assert.Single(request.Events);
    }

    [Fact]
    public void Should_answer_400_to_json_nested_deeper_than_64_levels()
    {
        var deep = string.Concat(Enumerable.Repeat("""{"a":""", 70)) + "1" + new string('}', 70);

        var error = Refused(Parse(IngressRoute.Track, $$"""{"userId":"u","event":"e","properties":{{deep}}}"""));

        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public void Should_map_a_heap_idempotency_key_to_the_messageId()
    {
        using var request = Accepted(Parse(IngressRoute.HeapTrack, """{"app_id":"11","identity":"ada","event":"Purchase","idempotency_key":"k-1"}""", authorization: null));

        Assert.Equal(("11", "k-1", "ada"), (request.WriteKey, request.Events[0].MessageId, request.Events[0].PartitionKey));
    }

    [Fact]
    public void Should_refuse_an_empty_event_name()
    {
        var error = Refused(Parse(IngressRoute.Track, """{"userId":"u","event":""}"""));

        Assert.Equal((400, "event"), (error.StatusCode, error.Field));
    }

    [Fact]
    public void Should_read_a_repeated_field_as_its_last_value_and_a_last_null_as_absent()
    {
        using var request = Accepted(Parse(IngressRoute.Track,
            """{"userId":"first","event":"e","userId":"last","messageId":"m-1","messageId":"m-2","anonymousId":"a","anonymousId":null}"""));
        using var keyedByAnonymousId = Accepted(Parse(IngressRoute.Track, """{"userId":"u","event":"e","userId":null,"anonymousId":"a"}"""));

        Assert.Equal(("last", "m-2"), (request.Events[0].PartitionKey, request.Events[0].MessageId));
        Assert.Equal("a", keyedByAnonymousId.Events[0].PartitionKey);
    }

    [Fact]
    public void Should_read_fields_whose_names_are_spelled_with_escapes()
    {
        using var request = Accepted(Parse(IngressRoute.Track, """{"user\u0049d":"u","\u0065vent":"e"}"""));
        var error = Refused(Parse(IngressRoute.Track, """{"userId":"u","\u0065vent":7}"""));

        Assert.Equal("u", request.Events[0].PartitionKey);
        Assert.Equal((400, "event"), (error.StatusCode, error.Field));
    }

    private static OrError<ParsedRequest> Parse(IngressRoute route, string json, string? authorization = "Basic d2s6") =>
        EventParser.Parse(Encoding.UTF8.GetBytes(json), route, authorization, Options);

    private static string Basic(string writeKey) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":"));

    private static ParsedRequest Accepted(OrError<ParsedRequest> parsed)
    {
        Assert.True(parsed.TryGetValue(out var request, out var error), error?.Error);
        return request;
    }

    private static IngressError Refused(OrError<ParsedRequest> parsed)
    {
        Assert.False(parsed.TryGetValue(out var request, out var error));
        request?.Dispose();
        return error;
    }
}
