using System.Net;
using AkkaCollector.Shutdown;
using AkkaCollector.Tests.Observability;
using Microsoft.AspNetCore.TestHost;

namespace AkkaCollector.Tests.Shutdown;

public sealed class HealthApiTests
{
    [Fact]
    public async Task Should_answer_liveness_with_200_from_a_host_that_has_no_spool_kafka_redis_or_actor_system()
    {
        await using var app = await BareHost.StartAsync(app => app.MapLiveness());

        using var response = await app.GetTestClient().GetAsync(HealthApi.LivePath);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("live", await response.Content.ReadAsStringAsync());
    }
}
