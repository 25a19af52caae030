using AkkaCollector.Spooling;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;
using LinqToDB.Metrics;

namespace AkkaCollector.Tests.Spooling;

/// <summary>
/// The journal's linq2db provider builds the text of an insert of parameters once and keeps it, and leaves every
/// statement whose text depends on a parameter's value (a comparison with NULL) to linq2db. linq2db reports each
/// SQL text it builds as an activity (<see cref="ActivityID.BuildSql"/>); a test counts those of its own thread.
/// </summary>
public sealed class SqliteJournalProviderTests : IDisposable
{
    private static readonly AsyncLocal<SqlTextsBuilt?> Counting = new();

    private readonly DataConnection _db = new(new DataOptions()
        .UseConnectionString(ProviderName.SQLiteMS, "Data Source=:memory:")
        .UseDataProvider(SqliteJournalProvider.Instance));

    static SqliteJournalProviderTests() =>
        ActivityService.AddFactory(id => id == ActivityID.BuildSql && Counting.Value is { } built ? built.One() : null);

    public SqliteJournalProviderTests() => _db.CreateTable<Row>();

    [Fact]
    public void Should_build_the_text_of_an_insert_of_strings_and_bytes_once()
    {
        var built = Count(() =>
        {
            _db.Insert(new Row { Name = "first", Tag = null, Payload = [1] });
            _db.Insert(new Row { Name = "second", Tag = "tagged", Payload = [2, 2] });
            _db.Insert(new Row { Name = "third", Tag = null, Payload = [3] });
        });

        // Once, or not at all when another test of this class built it first: linq2db keeps it per configuration.
        Assert.InRange(built, 0, 1);
        Assert.Equal([("first", null), ("second", "tagged"), ("third", null)],
            _db.GetTable<Row>().OrderBy(r => r.Id).AsEnumerable().Select(r => (r.Name, r.Tag)));
        Assert.Equal([[1], [2, 2], [3]], _db.GetTable<Row>().OrderBy(r => r.Id).Select(r => r.Payload).ToList());
    }

    [Fact]
    public void Should_still_build_a_comparison_with_a_parameter_for_each_value()
    {
        _db.Insert(new Row { Name = "untagged", Tag = null, Payload = [1] });
        _db.Insert(new Row { Name = "tagged", Tag = "a", Payload = [2] });

        var built = Count(() =>
        {
            Assert.Equal(["untagged"], NamesTagged(null));
            Assert.Equal(["tagged"], NamesTagged("a"));
            Assert.Equal(["untagged"], NamesTagged(null));
        });

        Assert.Equal(3, built);
    }

    private List<string> NamesTagged(string? tag) => _db.GetTable<Row>().Where(r => r.Tag == tag).Select(r => r.Name).ToList();

    private static int Count(Action run)
    {
        var built = new SqlTextsBuilt();
        Counting.Value = built;
        try
        {
            run();
        }
        finally
        {
            Counting.Value = null;
        }
        return built.Count;
    }

    public void Dispose() => _db.Dispose();

    [Table("rows")]
    private sealed class Row
    {
        [PrimaryKey, Identity] public long Id { get; set; }
        [Column, NotNull] public string Name { get; set; } = "";
        [Column, Nullable] public string? Tag { get; set; }
        [Column, NotNull] public byte[] Payload { get; set; } = [];
    }

    private sealed class SqlTextsBuilt
    {
        public int Count { get; private set; }

        public IActivity One()
        {
            Count++;
            return new Built();
        }

        private sealed class Built() : ActivityBase(ActivityID.BuildSql)
        {
            public override void Dispose()
            {
            }
        }
    }
}
