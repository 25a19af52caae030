using System.Net;
using Akka.Actor;
using AkkaCollector.Shutdown;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AkkaCollector.Tests.Shutdown;

public sealed class CollectorShutdownServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static async Task Eventually(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!condition())
            await Task.Delay(10, deadline.Token);
    }

    [Fact]
    public async Task Should_answer_an_in_flight_request_before_the_actor_system_terminates()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ShutdownTestHost.StartAsync(adminToken: null, app =>
            app.MapGet("/slow", async (ActorSystem system) =>
            {
                await release.Task;
                return system.WhenTerminated.IsCompleted ? "actor system already terminated" : "persisted and answered";
            }));
        var slow = host.Client.GetAsync("/slow");
        await Eventually(() => host.InFlight.Count == 1);

        var shutdown = host.Shutdown.RunAsync(HostStoppingReason.Instance);
        await Eventually(() => host.Readiness.IsDraining);
        using (var ready = await host.Client.GetAsync("/health/ready"))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        // Past the 0.1 s drain: the phases now wait in service-requests-done for the slow request.
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        Assert.False(host.System.WhenTerminated.IsCompleted);
        release.SetResult();

        using var answer = await slow.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("persisted and answered", await answer.Content.ReadAsStringAsync());
        await shutdown.WaitAsync(Patience);
        Assert.True(host.System.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task Should_run_the_phases_once_when_shutdown_is_asked_for_twice()
    {
        await using var host = await ShutdownTestHost.StartAsync(adminToken: null);

        var first = host.Shutdown.RunAsync(HostStoppingReason.Instance);
        var second = host.Shutdown.RunAsync(new AdminShutdownReason("late"));
        await Task.WhenAll(first, second).WaitAsync(Patience);

        Assert.Same(HostStoppingReason.Instance, host.Coordinated.ShutdownReason);
        Assert.True(host.System.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task Should_count_a_request_until_it_has_left_the_pipeline()
    {
        var inFlight = new InFlightRequests();
        inFlight.Enter();
        inFlight.Enter();

        var idle = inFlight.WaitUntilIdleAsync(CancellationToken.None);
        inFlight.Exit();
        Assert.False(idle.IsCompleted);
        inFlight.Exit();

        await idle.WaitAsync(Patience);
        Assert.Equal(0, inFlight.Count);
    }

    [Fact]
    public async Task Should_close_each_connection_after_its_answer_once_shutdown_has_begun()
    {
        await using var host = await ShutdownTestHost.StartAsync(adminToken: null);
        using var serving = await host.Client.GetAsync("/health/ready");

        host.Readiness.MarkDraining();
        using var draining = await host.Client.GetAsync("/health/ready");

        Assert.NotEqual(true, serving.Headers.ConnectionClose);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
        Assert.True(draining.Headers.ConnectionClose);
    }
}
