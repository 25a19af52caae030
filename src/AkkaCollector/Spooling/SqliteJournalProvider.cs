using LinqToDB;
using LinqToDB.DataProvider.SQLite;
using LinqToDB.Internal.DataProvider.SQLite;
using LinqToDB.Internal.SqlProvider;
using LinqToDB.Internal.SqlQuery;
using LinqToDB.Mapping;

namespace AkkaCollector.Spooling;

/// <summary>
/// linq2db's Microsoft.Data.Sqlite provider ("SQLite.MS"), except that the text of a plain <c>INSERT ... VALUES</c>
/// of parameters is built once and kept, as linq2db keeps any statement whose text cannot depend on its parameters'
/// values.
/// </summary>
/// <remarks>
/// Every journal write is one such insert: the spooler persists one row per group commit, and Akka.Persistence.Sql
/// inserts a single row with <c>InsertAsync</c>. linq2db 6.5 counts any parameter of a reference or nullable type as
/// one whose value may change the text (true where it is compared: <c>= @p</c> must become <c>IS NULL</c>), so it built
/// the insert anew for every write: 22 KB per write, 17.6 % of the bytes a single event allocated
/// (docs/benchmark.md, thirteenth round). In an insert's VALUES a NULL is passed as a parameter's value like any
/// other, so the text cannot depend on it. Every other statement (reads, the truncation's UPDATE and DELETE) keeps
/// linq2db's own judgement. The base types are linq2db's <c>Internal</c> API: linq2db is pinned in
/// Directory.Packages.props, and <c>SqliteJournalProviderTests</c> fail when an upgrade changes what this relies on.
/// </remarks>
public sealed class SqliteJournalProvider : SQLiteDataProvider
{
    public static readonly SqliteJournalProvider Instance = new();

    private readonly ISqlOptimizer _optimizer;

    private SqliteJournalProvider()
        : base(ProviderName.SQLiteMS, SQLiteProvider.Microsoft) =>
        _optimizer = new InsertKeepingOptimizer(SqlProviderFlags);

    public override ISqlOptimizer GetSqlOptimizer(DataOptions dataOptions) => _optimizer;

    private sealed class InsertKeepingOptimizer(SqlProviderFlags flags) : SQLiteSqlOptimizer(flags), ISqlOptimizer
    {
        bool ISqlOptimizer.IsParameterDependent(NullabilityContext nullability, MappingSchema mappingSchema, SqlStatement statement, DataOptions dataOptions) =>
            !IsInsertOfParameters(statement) && IsParameterDependent(nullability, mappingSchema, statement, dataOptions);

        // INSERT INTO t (columns) VALUES (query parameters): no FROM, no WHERE, no OUTPUT, nothing computed.
        private static bool IsInsertOfParameters(SqlStatement statement) =>
            statement is SqlInsertStatement { Output: null } insert
            && insert.SelectQuery.From.Tables.Count == 0
            && insert.SelectQuery.Where.IsEmpty
            && insert.Insert.Items.Count > 0
            && insert.Insert.Items.All(item => item.Expression is SqlParameter { IsQueryParameter: true });
    }
}
