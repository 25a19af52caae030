using System.Net;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using AkkaCollector.Spooling;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;
using AkkaCollector.Tests.Spooling;
using Xunit.Abstractions;
using static AkkaCollector.Tests.Spooling.SpoolEvents;

namespace AkkaCollector.IntegrationTests.Spooling;

/// <summary>
/// The spool's promises against a real journal database, written once (in the manner of Akka.Persistence's TCK):
/// each subclass only names the database. The real SpoolerActor, the real Akka.Persistence.Sql journal and the
/// real SqlSpoolReader; only Kafka is a recording stand-in.
/// </summary>
public abstract class SpoolSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly SpoolId Spool0 = new("spec", 0);
    private static readonly string PersistenceId = Spool0.PersistenceId;
    private static readonly ISpoolOwnership Alone = new FileOwnership(() => Task.FromResult<IReadOnlyList<SpoolId>>([]));
    private static readonly TimeSpan CollectorStartTimeout = TimeSpan.FromSeconds(60);

    private readonly SpoolJournal _journal;
    private readonly SpoolStatus _status = new(1, 1L << 30);

    protected SpoolSpec(SpoolJournal journal, ITestOutputHelper output) : base(ActorSystemConfig(journal), output: output)
    {
        _journal = journal;
    }

    /// <summary>The collector's own HOCON and journal settings, as Program.cs assembles them.</summary>
    private static Config ActorSystemConfig(SpoolJournal journal) =>
        SpoolJournalConfig.For(journal.Settings).WithFallback(CollectorHocon.Load("akka.conf"));

    private SpoolOptions Options(Action<SpoolOptions>? change = null)
    {
        var options = new SpoolOptions { Provider = _journal.Settings.Provider, ConnectionString = _journal.Settings.ConnectionString, Partitions = 1 };
        change?.Invoke(options);
        return options;
    }

    private IActorRef StartSpool(RecordingPublisher publisher, SpoolOptions? options = null, SpoolId? spool = null) =>
        Sys.ActorOf(SpoolPartition.For(spool ?? Spool0, SpoolRole.Own, options ?? Options(), _status, publisher, new SqlSpoolReader(Sys), publisher, Alone));

    private void Stop(IActorRef spool)
    {
        Watch(spool);
        Sys.Stop(spool);
        ExpectTerminated(spool);
    }

    private void Store(IActorRef spool, params string[] ids)
    {
        foreach (var id in ids)
        {
            spool.Tell(Request(id), TestActor);
            Assert.Equal(SpoolReply.Stored, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public async Task Should_answer_stored_only_once_the_batch_is_a_row_in_the_journal()
    {
        var spool = StartSpool(new RecordingPublisher());

        Store(spool, "a");

        Assert.Equal(1, await _journal.CountRowsAsync(PersistenceId));
    }

    [Fact]
    public void Should_replay_every_undelivered_event_in_order_after_a_restart()
    {
        var spool = StartSpool(new RecordingPublisher());
        Store(spool, "e1", "e2", "e3");
        Stop(spool);

        var afterRestart = new RecordingPublisher();
        StartSpool(afterRestart);

        AwaitAssert(() => Assert.Equal(["e1", "e2", "e3"], afterRestart.PublishedIds), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Should_shrink_the_journal_once_kafka_confirms_and_replay_only_the_rest()
    {
        var publisher = new RecordingPublisher();
        var spool = StartSpool(publisher);
        Store(spool, "e1", "e2", "e3", "e4", "e5");
        AwaitCondition(() => publisher.Published.Count == 5);
        Assert.Equal(5, await _journal.CountRowsAsync(PersistenceId));

        foreach (var batch in publisher.Published.Take(4))
            batch.Confirm();

        // Akka.Persistence.Sql keeps the highest deleted row (marked deleted) as the sequence-number high-water mark.
        await AwaitAssertAsync(async () => Assert.Equal(2, await _journal.CountRowsAsync(PersistenceId)), TimeSpan.FromSeconds(10));
        Stop(spool);
        var afterRestart = new RecordingPublisher();
        StartSpool(afterRestart);
        AwaitAssert(() => Assert.Equal(["e5"], afterRestart.PublishedIds), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Should_read_spilled_batches_back_from_the_journal_in_order()
    {
        var publisher = new RecordingPublisher();
        // Each test event carries 100 payload bytes: ten stay in memory, the unconfirmed window holds five.
        var spool = StartSpool(publisher, Options(o => { o.MemoryBytesPerPartition = 1000; o.MaxUnconfirmedEvents = 5; }));
        var ids = Enumerable.Range(0, 60).Select(i => $"e{i}").ToArray();
        Store(spool, ids);
        spool.Tell(GetSpoolState.Instance, TestActor);
        Assert.True(ExpectMsg<SpoolState>().MemoryBytes <= 1000);

        var delivered = new List<string>();
        AwaitCondition(() =>
        {
            while (publisher.Published.TryDequeue(out var batch))
            {
                delivered.AddRange(batch.Events.Select(e => e.MessageId));
                batch.Confirm();
            }
            return delivered.Count >= ids.Length;
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10));

        Assert.Equal(ids, delivered);
    }

    [Fact]
    public async Task Should_deliver_every_acknowledged_event_after_the_collector_is_killed_with_SIGKILL()
    {
        // Kafka is a closed port: nothing the collector acknowledges can leave its spool before the kill.
        using var collector = ChildProcess.StartDotnet(CollectorBinary.Path,
            ["--urls", "http://127.0.0.1:0", "--Kafka:BootstrapServers=127.0.0.1:1", $"--Collector:InstanceId={Spool0.Instance}", .. _journal.CollectorArguments]);
        using var http = new HttpClient { BaseAddress = await collector.WaitForListeningUrlAsync(CollectorStartTimeout) };
        // Kestrel listens before the journal has started; on a loaded machine the PostgreSQL journal's start outlasted
        // Spool:WriteTimeout and a first event was answered 503 (CI, once). Readiness waits for the journal, as a load
        // balancer does: from then on every event must be stored.
        await Readiness.WaitForAsync(http, HttpStatusCode.OK, CollectorStartTimeout);
        var acknowledged = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            using var answer = await PostTrackAsync(http, $"m{i}");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            acknowledged.Add($"m{i}");
        }

        Assert.True(collector.Kill());
        Assert.Equal(128 + Signals.SIGKILL, await collector.WaitForExitAsync(TimeSpan.FromSeconds(10)));

        var afterKill = new RecordingPublisher();
        StartSpool(afterKill);
        AwaitAssert(() => Assert.Equal(acknowledged, afterKill.PublishedIds), TimeSpan.FromSeconds(20));
    }

    private static Task<HttpResponseMessage> PostTrackAsync(HttpClient http, string messageId) =>
        http.PostAsync("/v1/track", new StringContent(
            $$"""{"writeKey":"wk","type":"track","event":"e","userId":"u","messageId":"{{messageId}}"}""", Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Should_refuse_the_next_write_of_an_owner_whose_spool_a_takeover_has_fenced()
    {
        var owner = StartSpool(new RecordingPublisher());
        Store(owner, "e1", "e2");

        // A taker that ignores the lock, as a woken owner's write races the takeover: its fence is row 3.
        var kafka = new RecordingPublisher();
        Sys.ActorOf(SpoolPartition.For(Spool0, SpoolRole.Drain, Options(), null, kafka, new SqlSpoolReader(Sys), kafka, Alone));
        await AwaitAssertAsync(async () => Assert.Equal(3, await _journal.CountRowsAsync(PersistenceId)), TimeSpan.FromSeconds(20));
        owner.Tell(Request("late"), TestActor);

        Assert.Equal(SpoolReply.Failed, ExpectMsg<SpoolReply>(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, await _journal.CountRowsAsync(PersistenceId));
    }

    [Fact]
    public async Task Should_deliver_after_the_upgrade_a_spool_written_before_instance_ids()
    {
        // "spool-0": how every collector named its spool before Collector:InstanceId.
        var written = new SpoolId("", 0);
        var before = StartSpool(new RecordingPublisher(), spool: written);
        Store(before, "old-1", "old-2", "old-3");
        Stop(before);

        await using var kafka = await KafkaMockProcess.StartAsync(1, 1, "events");
        await using var audit = TopicAudit.Start(kafka.BootstrapServers, "events");
        using var upgraded = ChildProcess.StartDotnet(CollectorBinary.Path,
            ["--urls", "http://127.0.0.1:0", $"--Kafka:BootstrapServers={kafka.BootstrapServers}", "--Collector:InstanceId=upgraded", "--Spool:TakeoverAfter=4s",
             .. _journal.CollectorArguments]);

        Assert.True(await audit.WaitUntilAsync(topic => topic.Count >= 3, TimeSpan.FromSeconds(60)), $"{audit}\n{upgraded.Output}");
        Assert.True(audit.Contains("old-1") && audit.Contains("old-2") && audit.Contains("old-3"), audit.ToString());
        // Drained and truncated: only its last row is left, marked deleted (the sequence numbers' high-water mark).
        await AwaitAssertAsync(async () => Assert.Equal(1, await _journal.CountRowsAsync(written.PersistenceId)), TimeSpan.FromSeconds(20));
        Assert.Equal(0, audit.Duplicates);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
            _journal.Dispose();
    }
}
