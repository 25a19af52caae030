using AkkaCollector.Testing.Postgres;

namespace AkkaCollector.IntegrationTests.Spooling;

/// <summary>A throwaway PostgreSQL server for a test class: started before its first test, stopped after its last.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private PostgresServer? _instance;

    public PostgresServer Instance => _instance ?? throw new InvalidOperationException("The PostgreSQL server has not started");

    public async Task InitializeAsync() => _instance = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_instance is not null)
            await _instance.DisposeAsync();
    }
}
