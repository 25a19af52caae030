using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Spooling;

/// <summary><see cref="SpoolSpec"/> on PostgreSQL: one throwaway server for the class, a fresh database per test.</summary>
public sealed class PostgresSpoolSpec(PostgresServerFixture server, ITestOutputHelper output)
    : SpoolSpec(SpoolJournal.Postgres(server.Instance), output), IClassFixture<PostgresServerFixture>;
