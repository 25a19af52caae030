using System.Net;
using AkkaCollector.Ingress;

namespace AkkaCollector.Tests.Ingress;

public sealed class BenchNoopEndpointTests
{
    private const string Track = """{"userId":"u1","event":"Signed Up"}""";

    [Fact]
    public async Task Should_not_answer_the_noop_endpoint_unless_the_benchmark_turns_it_on()
    {
        await using var host = await IngressTestHost.StartAsync();

        var response = await host.PostAsync("/bench/noop", Track, basicWriteKey: "wk");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Should_answer_success_without_spooling_anything_when_the_noop_endpoint_is_on()
    {
        await using var host = await IngressTestHost.StartAsync((BenchNoopEndpoint.Setting, "true"));

        var response = await host.PostAsync("/bench/noop", Track, basicWriteKey: "wk");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"success":true}""", await response.Content.ReadAsStringAsync());
        Assert.Empty(host.Spool.Received);
    }
}
