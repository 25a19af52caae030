using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Spooling;

/// <summary><see cref="SpoolSpec"/> on the embedded default: a SQLite journal file.</summary>
public sealed class SqliteSpoolSpec(ITestOutputHelper output) : SpoolSpec(SpoolJournal.Sqlite(), output);
