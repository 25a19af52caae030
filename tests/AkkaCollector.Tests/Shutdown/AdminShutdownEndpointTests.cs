using System.Net;
using System.Net.Http.Headers;
using AkkaCollector.Shutdown;

namespace AkkaCollector.Tests.Shutdown;

public sealed class AdminShutdownEndpointTests
{
    private const string Token = "s3cret-admin-token";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static HttpRequestMessage ShutdownRequest(string? token, string query = "", HttpContent? body = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, AdminShutdownEndpoint.Path + query) { Content = body };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    [Fact]
    public async Task Should_answer_404_when_no_admin_token_is_configured()
    {
        await using var host = await ShutdownTestHost.StartAsync(adminToken: null);

        using var response = await host.Client.SendAsync(ShutdownRequest(Token));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(host.Coordinated.ShutdownReason);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    [InlineData(Token + "x")]
    public async Task Should_answer_401_and_keep_running_without_the_right_token(string? token)
    {
        await using var host = await ShutdownTestHost.StartAsync(Token);

        using var response = await host.Client.SendAsync(ShutdownRequest(token));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Null(host.Coordinated.ShutdownReason);
        Assert.True(host.Readiness.IsReady);
    }

    [Fact]
    public async Task Should_answer_202_then_run_coordinated_shutdown_with_the_reason_and_stop_the_host()
    {
        await using var host = await ShutdownTestHost.StartAsync(Token);

        using var response = await host.Client.SendAsync(ShutdownRequest(Token, "?reason=deploy%2042"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await host.System.WhenTerminated.WaitAsync(Patience);
        var reason = Assert.IsType<AdminShutdownReason>(host.Coordinated.ShutdownReason);
        Assert.Equal("deploy 42", reason.Text);
        // Akka.Hosting stops the host once the actor system has terminated, so the process exits too.
        await Task.Delay(Timeout.Infinite, host.Lifetime.ApplicationStopping).ContinueWith(_ => { }).WaitAsync(Patience);
    }

    [Fact]
    public async Task Should_take_the_reason_from_the_body_when_the_query_has_none()
    {
        await using var host = await ShutdownTestHost.StartAsync(Token);

        using var response = await host.Client.SendAsync(ShutdownRequest(Token, body: new StringContent("rotate the node")));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await host.System.WhenTerminated.WaitAsync(Patience);
        Assert.Equal("rotate the node", Assert.IsType<AdminShutdownReason>(host.Coordinated.ShutdownReason).Text);
    }
}
