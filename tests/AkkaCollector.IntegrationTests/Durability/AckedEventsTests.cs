using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AkkaCollector.IntegrationTests.Shutdown;
using AkkaCollector.Rig.Verification;
using AkkaCollector.Testing.Processes;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>
/// "Never loses an acknowledged event", proven with real processes: the collector binary with its SQLite journal,
/// a standalone Kafka mock that outlives it, and concurrent producers whose every 200 is checked against the topic.
/// </summary>
public sealed class AckedEventsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_deliver_every_acked_event_after_kill_9_while_thousands_were_acked_but_not_yet_in_Kafka()
    {
        const int events = 20_000;
        const int acksBeforeOutage = 4_000;
        const int acksDuringOutage = 3_000;
        var clock = Stopwatch.StartNew();
        await using var rig = await CollectorWithKafka.StartAsync();
        var (audit, collector) = (rig.Audit, rig.Collector);
        using var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger, Producer.Sending(events, concurrency: 32));

        var sending = producer.RunAsync(CancellationToken.None);
        Assert.True(await ledger.WaitForAcksAsync(acksBeforeOutage, TimeSpan.FromSeconds(40)), $"no {acksBeforeOutage} acks: {ledger}");
        await rig.SetAllBrokersDownAsync();
        var ackedAtDown = ledger.AckedCount;
        Assert.True(await ledger.WaitForAcksAsync(ackedAtDown + acksDuringOutage, TimeSpan.FromSeconds(40)), $"no acks while Kafka was down: {ledger}");
        Assert.True(collector.Kill());
        // Acked after every broker went down, so in the journal and nowhere else when the process died: the tail a
        // journal could lose. (Requests answered just after the down may add to it; they only make it larger.)
        var undeliveredAtKill = ledger.AckedCount - ackedAtDown;
        var killedAt = clock.Elapsed;
        await collector.RestartAsync();
        await rig.SetAllBrokersUpAsync();
        output.WriteLine($"kill -9 at {ackedAtDown + undeliveredAtKill} acks, {undeliveredAtKill} of them acked while Kafka was down; " +
                         $"restarted and answering after {(clock.Elapsed - killedAt).TotalSeconds:F1} s");
        await sending;

        var lost = await new DeliveryCheck(output, ledger, audit).ReportAsync("kill -9", DeliveryTimeout, collector, clock.Elapsed);
        Assert.True(undeliveredAtKill >= acksDuringOutage, $"only {undeliveredAtKill} acked events were undelivered at the kill");
        Assert.Empty(lost);
        Assert.Empty(ledger.NeverAcked);
    }

    [Fact]
    public async Task Should_deliver_every_acked_event_once_after_all_brokers_were_down_for_10_seconds()
    {
        const int events = 12_000;
        var outage = TimeSpan.FromSeconds(10);
        var clock = Stopwatch.StartNew();
        await using var rig = await CollectorWithKafka.StartAsync();
        var (audit, collector) = (rig.Audit, rig.Collector);
        // Paced so that sending spans the outage: about 2 s before, 10 s during, 3 s after.
        using var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger, Producer.Sending(events, concurrency: 32) with { Rate = 800 });

        var sending = producer.RunAsync(CancellationToken.None);
        Assert.True(await ledger.WaitForAcksAsync(1_500, TimeSpan.FromSeconds(20)), $"no traffic before the outage: {ledger}");
        await rig.SetAllBrokersDownAsync();
        var (ackedAtDown, seenAtDown) = (ledger.AckedCount, audit.Count);
        await Task.Delay(outage);
        var (ackedAtUp, seenAtUp) = (ledger.AckedCount, audit.Count);
        await rig.SetAllBrokersUpAsync();
        output.WriteLine($"outage: {ackedAtUp - ackedAtDown} events acked while all brokers were down; {seenAtUp - seenAtDown} reached the topic meanwhile");
        await sending;

        var lost = await new DeliveryCheck(output, ledger, audit).ReportAsync("all brokers down 10 s", DeliveryTimeout, collector, clock.Elapsed);
        Assert.Empty(lost);
        Assert.Empty(ledger.Failures);
        // The producers retried nothing, and the collector handed every event over once: it started once, and Kafka
        // failed none of its deliveries, the one thing that makes it hand a batch over again.
        Assert.Equal(1, collector.Starts);
        Assert.Equal(0, await collector.MetricAsync("collector_kafka_delivery_errors_total"));
        // So the only second copies can be the mock's: Produce requests it appended just as the brokers went down, whose
        // answers went with the connections, appended again when librdkafka sent them once more (MockClusterTests).
        // They are each partition's last records before the outage, written again as its first after it.
        Assert.True(await audit.WaitUntilReadToEndAsync(DeliveryTimeout), $"the audit did not read the topic to its end: {audit}");
        Assert.Empty(audit.ExtraCopiesBesidesRunsWrittenTwice());
        // The outage was real: producers kept being answered 200 while Kafka took nothing.
        Assert.True(ackedAtUp - ackedAtDown > 1_000, $"only {ackedAtUp - ackedAtDown} acks during the outage");
        Assert.True(seenAtUp - seenAtDown < (ackedAtUp - ackedAtDown) / 10, $"{seenAtUp - seenAtDown} events reached Kafka while it was down");
    }

    [Fact]
    public async Task Should_answer_503_with_Retry_After_when_the_spool_is_full_and_lose_nothing_acked()
    {
        const int events = 1_000;
        var clock = Stopwatch.StartNew();
        await using var rig = await CollectorWithKafka.StartAsync(settings: new Dictionary<string, string>
        {
            ["Spool__MaxBytes"] = $"{200 * 1024}",
            ["Spool__Partitions"] = "8",
            ["Ingress__RetryAfterSeconds"] = "1",
        });
        var (audit, collector) = (rig.Audit, rig.Collector);
        // With 1 KB of padding each event is well over 1 KB: far fewer than the 1 000 sent fill the 200 KB spool.
        using var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger,
            Producer.Sending(events, concurrency: 16) with { PaddingBytes = 1_000, RetryDelay = TimeSpan.FromMilliseconds(200) });
        using var client = new HttpClient { BaseAddress = new Uri(collector.BaseUrl) };
        await rig.SetAllBrokersDownAsync();

        var sending = producer.RunAsync(CancellationToken.None);
        var full = await WaitForFailureAsync(ledger, f => f.Status == 503, TimeSpan.FromSeconds(20));
        var ackedWhenFull = ledger.AckedCount;
        // Kafka stays down a second longer, so the full spoolers stay full for requests of the test's own, which show what the producers were told.
        using var refused = await FirstRefusalAsync(client);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await rig.SetAllBrokersUpAsync();
        await sending;

        var lost = await new DeliveryCheck(output, ledger, audit).ReportAsync("spool full", DeliveryTimeout, collector, clock.Elapsed);
        var refusal = await refused.Content.ReadAsStringAsync();
        output.WriteLine($"first 503 after {ackedWhenFull} acks: {full.Cause}; a request of its own then: {(int)refused.StatusCode}, Retry-After {refused.Headers.RetryAfter}, body {refusal}");
        Assert.Equal("503 the collector's spool is full; retry later", full.Cause);
        Assert.Equal(503, (int)refused.StatusCode);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Equal("the collector's spool is full; retry later", JsonDocument.Parse(refusal).RootElement.GetProperty("error").GetString());
        Assert.InRange(ackedWhenFull, 1, events - 1);
        Assert.Empty(lost);
        Assert.Empty(ledger.NeverAcked);
        Assert.All(ledger.Failures, f => Assert.Equal(503, f.Status));

        // The backlog has drained: a new producer is answered 200 at its first attempt.
        using var laterLedger = new Ledger();
        using var later = Producer.To(collector, laterLedger, Producer.Sending(1, concurrency: 1) with { GiveUpAfter = TimeSpan.Zero });
        await later.RunAsync(CancellationToken.None);
        Assert.Equal(1, laterLedger.AckedCount);
    }

    /// <summary>A request sent as it is, and the status the collector must answer it with.</summary>
    private sealed record ScriptedRequest(string Path, byte[] Body, int Status, bool WithWriteKey = true, string? ContentEncoding = null)
    {
        public ScriptedRequest(string path, string json, int status, bool withWriteKey = true)
            : this(path, Encoding.UTF8.GetBytes(json), status, withWriteKey)
        {
        }
    }

    private static readonly Dictionary<string, ScriptedRequest> Rejected = new()
    {
        ["bad JSON"] = new("/v1/track", """{"userId":"u1","event":""", 400),
        ["an array, not an object"] = new("/v1/track", """[{"userId":"u1","event":"e"}]""", 400),
        ["missing userId"] = new("/v1/track", """{"event":"e"}""", 400),
        ["userId is a number"] = new("/v1/track", """{"userId":42,"event":"e"}""", 400),
        ["properties is a string"] = new("/v1/track", """{"userId":"u1","event":"e","properties":"p"}""", 400),
        ["timestamp is not a date"] = new("/v1/track", """{"userId":"u1","event":"e","timestamp":"yesterday"}""", 400),
        ["no write key"] = new("/v1/track", """{"userId":"u1","event":"e"}""", 401, withWriteKey: false),
        ["empty body"] = new("/v1/track", "", 400),
        ["oversize event"] = new("/v1/track", $$$"""{"userId":"u1","event":"e","properties":{"pad":"{{{new string('x', 40_000)}}}"}}""", 413),
        ["oversize body"] = new("/v1/batch", BatchOf(2_000, padding: 300), 413),
        ["gzip bomb"] = new("/v1/batch", GzipOfSpaces(20 << 20), 413, ContentEncoding: "gzip"),
        ["br encoding"] = new("/v1/track", Encoding.UTF8.GetBytes("""{"userId":"u1","event":"e"}"""), 415, ContentEncoding: "br"),
        ["empty batch"] = new("/v1/batch", """{"batch":[]}""", 400),
        ["10 000-event batch"] = new("/v1/batch", BatchOf(10_000, padding: null), 400),
        ["one bad event among good ones"] = new("/v1/batch", """{"batch":[{"type":"track","event":"e","userId":"u1"},{"type":"identify","userId":"u2"},{"type":"track","userId":"u3"}]}""", 400),
    };

    [Fact]
    public async Task Should_store_nothing_of_a_rejected_request()
    {
        await using var rig = await CollectorWithKafka.StartAsync(brokers: 1);
        var (audit, collector) = (rig.Audit, rig.Collector);
        using var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger, Producer.Sending(1, concurrency: 1));
        using var client = new HttpClient { BaseAddress = new Uri(collector.BaseUrl) };
        // One good event first: the pipeline works end to end and the journal exists, delivered and truncated.
        await producer.RunAsync(CancellationToken.None);
        var check = new DeliveryCheck(output, ledger, audit);
        Assert.Empty(await check.MissingAfterAsync(DeliveryTimeout));
        var rowsBefore = await SettledJournalRowsAsync(collector);

        var answers = new List<(string Name, int Status, string Body)>();
        foreach (var (name, request) in Rejected)
        {
            using var response = await PostAsync(client, request);
            answers.Add((name, (int)response.StatusCode, await response.Content.ReadAsStringAsync()));
        }
        var rowsAfter = DeliveryCheck.JournalRows(collector);
        // A good event after the bad ones: once it is in the topic, anything wrongly stored before it would be too.
        await producer.RunAsync(CancellationToken.None);
        Assert.Empty(await check.MissingAfterAsync(DeliveryTimeout));
        await Task.Delay(TimeSpan.FromSeconds(1));

        output.WriteLine(string.Join('\n', answers.Select(a => $"{a.Name}: {a.Status} {a.Body}")));
        output.WriteLine($"journal rows before {rowsBefore}, after {rowsAfter}; topic: {audit}");
        Assert.Equal(Rejected.Select(r => (r.Key, r.Value.Status)), answers.Select(a => (a.Name, a.Status)));
        Assert.Equal(rowsBefore, rowsAfter);
        Assert.Equal(2, audit.Records);
    }

    [Fact]
    public async Task Should_redeliver_after_a_graceful_restart_what_kafka_had_not_confirmed_and_only_that()
    {
        const int events = 2_000;
        var clock = Stopwatch.StartNew();
        await using var rig = await CollectorWithKafka.StartAsync();
        var (audit, collector) = (rig.Audit, rig.Collector);
        using var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger, Producer.Sending(events, concurrency: 32));
        await rig.SetAllBrokersDownAsync();

        await producer.RunAsync(CancellationToken.None);
        var seenBeforeStop = audit.Count;
        var stop = await collector.StopAsync(ShippedShutdown.KillWindow);
        output.WriteLine($"SIGTERM with {ledger.AckedCount} acked and {seenBeforeStop} in the topic: {stop}");
        Assert.True(stop.KeptTheKillWindow, $"SIGTERM: {stop} (kill window {ShippedShutdown.KillWindow.TotalSeconds:F0} s)");
        await collector.RestartAsync();
        await rig.SetAllBrokersUpAsync();

        var lost = await new DeliveryCheck(output, ledger, audit).ReportAsync("graceful restart", DeliveryTimeout, collector, clock.Elapsed);
        Assert.Equal(events, ledger.AckedCount);
        Assert.Equal(0, seenBeforeStop);
        Assert.Empty(lost);
        Assert.True(await audit.WaitUntilReadToEndAsync(DeliveryTimeout), $"the audit did not read the topic to its end: {audit}");
        Assert.Equal(0, audit.Duplicates);
    }

    [Fact]
    public async Task Should_store_a_retried_request_once_and_answer_it_200()
    {
        await using var rig = await CollectorWithKafka.StartAsync(brokers: 1);
        var (audit, collector) = (rig.Audit, rig.Collector);
        using var client = new HttpClient { BaseAddress = new Uri(collector.BaseUrl) };

        var answers = new List<int>();
        foreach (var ids in new[] { ["r1", "r2", "r3"], ["r1", "r2", "r3"], ["r3", "r4"], new[] { "last" } })
        {
            using var response = await PostAsync(client, BatchOfOneUser(ids));
            answers.Add((int)response.StatusCode);
        }
        Assert.True(await audit.WaitUntilAsync(a => a.Contains("last"), DeliveryTimeout), $"the last event never reached the topic: {audit}");

        output.WriteLine($"answers {string.Join(' ', answers)}; topic: {audit}");
        Assert.Equal([200, 200, 200, 200], answers);
        Assert.Equal([1, 1, 1, 1], new[] { "r1", "r2", "r3", "r4" }.Select(audit.TimesSeen));
        Assert.Equal(5, audit.Records);
    }

    /// <summary>
    /// Events of one user with the given messageIds: one spooler and one Kafka partition take them, so the last
    /// request's record reaches the topic after every earlier one's.
    /// </summary>
    private static ScriptedRequest BatchOfOneUser(string[] ids) => new("/v1/batch",
        "{\"batch\":[" + string.Join(',', ids.Select(id => $$"""{"type":"track","event":"e","userId":"retrying-user","messageId":"{{id}}"}""")) + "]}", 200);

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, ScriptedRequest request)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Path) { Content = new ByteArrayContent(request.Body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (request.ContentEncoding is { } encoding)
            message.Content.Headers.ContentEncoding.Add(encoding);
        if (request.WithWriteKey)
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("durability:"u8));
        return await client.SendAsync(message);
    }

    /// <summary>
    /// The journal's row count once it has stopped changing: the first event's truncation may still be under way, and
    /// a spooler truncates once per Spool:TruncationInterval (1 s), so two reads further apart than that agree only when settled.
    /// </summary>
    private static async Task<long> SettledJournalRowsAsync(CollectorProcess collector)
    {
        var rows = DeliveryCheck.JournalRows(collector);
        for (var i = 0; i < 10; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1_500));
            var now = DeliveryCheck.JournalRows(collector);
            if (now == rows)
                return rows;
            rows = now;
        }
        throw new TimeoutException($"the journal's row count never settled (last {rows})");
    }

    /// <summary>
    /// Posts events larger than any of the producer's, each from another user, until one is refused: a spooler that
    /// refused one of the producer's events has no room for it, and 64 users reach every one of the 8 spoolers (all but surely).
    /// </summary>
    private static async Task<HttpResponseMessage> FirstRefusalAsync(HttpClient client)
    {
        var padding = new string('x', 4_000);
        for (var user = 0; user < 64; user++)
        {
            var response = await PostAsync(client, new ScriptedRequest("/v1/track", $$$"""{"userId":"probe-{{{user}}}","event":"e","properties":{"p":"{{{padding}}}"}}""", 503));
            if (response.StatusCode != System.Net.HttpStatusCode.OK)
                return response;
            response.Dispose();
        }
        throw new InvalidOperationException("64 users' events were all accepted: no spooler was full");
    }

    private static async Task<LedgerEntry> WaitForFailureAsync(Ledger ledger, Func<LedgerEntry, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (ledger.Failures.FirstOrDefault(predicate) is { } failure)
                return failure;
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
        throw new TimeoutException($"no such failure within {timeout}: {ledger}");
    }

    private static string BatchOf(int events, int? padding)
    {
        var properties = padding is { } bytes ? $$$""","properties":{"p":"{{{new string('x', bytes)}}}"}""" : "";
        return $$"""{"batch":[{{string.Join(",", Enumerable.Range(0, events).Select(i => $$"""{"type":"track","event":"e","userId":"u{{i}}"{{properties}}}"""))}}]}""";
    }

    /// <summary>A body of <paramref name="inflatedBytes"/> spaces that gzip squeezes to a few kilobytes.</summary>
    private static byte[] GzipOfSpaces(int inflatedBytes)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize))
            gzip.Write(Enumerable.Repeat((byte)' ', inflatedBytes).ToArray());
        return compressed.ToArray();
    }
}
