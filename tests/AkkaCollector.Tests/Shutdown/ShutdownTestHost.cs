using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using AkkaCollector.Shutdown;
using AkkaCollector.Spooling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AkkaCollector.Tests.Shutdown;

/// <summary>An in-memory web host wired like Program.cs (shutdown pieces, Akka.Hosting), on a TestServer.</summary>
internal sealed class ShutdownTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ShutdownTestHost(WebApplication app)
    {
        _app = app;
        Client = app.GetTestClient();
    }

    public HttpClient Client { get; }

    public ActorSystem System => _app.Services.GetRequiredService<ActorSystem>();

    public CoordinatedShutdown Coordinated => CoordinatedShutdown.Get(System);

    public InFlightRequests InFlight => _app.Services.GetRequiredService<InFlightRequests>();

    public ReadinessGate Readiness => _app.Services.GetRequiredService<ReadinessGate>();

    public CollectorShutdownService Shutdown => _app.Services.GetRequiredService<CollectorShutdownService>();

    public IHostApplicationLifetime Lifetime => _app.Services.GetRequiredService<IHostApplicationLifetime>();

    /// <summary>Starts the host; <paramref name="mapExtra"/> adds endpoints a test needs (a slow request).</summary>
    public static async Task<ShutdownTestHost> StartAsync(string? adminToken, Action<WebApplication>? mapExtra = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Shutdown:AdminToken"] = adminToken,
            ["Shutdown:DrainDelay"] = "00:00:00.1",
        });
        var settings = builder.AddCollectorShutdown(Config.Empty);
        var spool = new SpoolStatus(1, 1024);
        builder.Services.AddSingleton(spool);
        builder.Services.AddAkka("shutdown-test", akka => akka.AddCollectorShutdownHocon(settings));

        var app = builder.Build();
        app.UseInFlightRequests();
        app.MapReadiness();
        app.MapAdminShutdown();
        mapExtra?.Invoke(app);
        await app.StartAsync();
        return new ShutdownTestHost(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
