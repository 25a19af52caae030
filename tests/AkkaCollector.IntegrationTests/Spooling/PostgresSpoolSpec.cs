using AkkaCollector.Testing.Postgres;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Spooling;

/// <summary><see cref="SpoolSpec"/> on PostgreSQL: one throwaway server for the class, a fresh database per test.</summary>
public sealed class PostgresSpoolSpec(PostgresSpoolSpec.Server server, ITestOutputHelper output)
    : SpoolSpec(SpoolJournal.Postgres(server.Instance), output), IClassFixture<PostgresSpoolSpec.Server>
{
    /// <summary>Starts the PostgreSQL server before the first test and stops it after the last.</summary>
    public sealed class Server : IAsyncLifetime
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
}
