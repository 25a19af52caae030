using System.Net.Http.Headers;
using System.Text;
using AkkaCollector.IntegrationTests.Spooling;
using AkkaCollector.KafkaMock;
using Confluent.Kafka;
using AkkaCollector.Testing.Processes;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>
/// A collector killed between its journal write and its answer has stored a request the load balancer then replays on
/// another collector (HAProxy's <c>retry-on empty-response</c>), whose spool stores and delivers it too. Both copies are
/// the same events: the killed collector's spool, delivered after its restart or by the survivor that takes it over,
/// leaves out what the other one delivered. Real processes under their own instance ids, as a deployment names them, so
/// the two copies carry different spool headers.
/// </summary>
/// <remarks>One class: its tests run one after the other, not beside each other on a 2-core runner.</remarks>
public sealed class ReplayOnAnotherCollectorTests(PostgresServerFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresServerFixture>
{
    private const string User = "replayed-user";
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);
    private static readonly string[] Replayed = Enumerable.Range(1, 10).Select(n => $"replayed-{n}").ToArray();

    [Fact]
    public async Task Should_hold_one_copy_of_a_request_a_collector_stored_before_kill_9_and_another_stored_from_the_replay()
    {
        await using var rig = await CollectorWithKafka.StartAsync(brokers: 1, InstanceId("a"));
        using var b = await CollectorProcess.StartAsync(rig.Kafka.BootstrapServers, InstanceId("b"));
        var a = rig.Collector;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        // Kafka is down, so a's copy stays in its spool: a's Kafka client loses it with the process.
        await rig.SetAllBrokersDownAsync();
        Assert.Equal(200, await PostAsync(http, a, Replayed));
        Assert.True(a.Kill());
        await rig.SetAllBrokersUpAsync();
        Assert.Equal(200, await PostAsync(http, b, Replayed));
        Assert.True(await rig.Audit.WaitUntilAsync(audit => Replayed.All(audit.Contains), DeliveryTimeout), $"b's copy never reached the topic: {rig.Audit}");

        await a.RestartAsync();
        // One user: one spooler and one Kafka partition, in journal order. Once this event is in the topic, the replayed
        // batch before it was handed over or left out.
        Assert.Equal(200, await PostAsync(http, a, ["after-restart"]));
        Assert.True(await rig.Audit.WaitUntilAsync(audit => audit.Contains("after-restart"), DeliveryTimeout), $"a's next event never reached the topic: {rig.Audit}");

        output.WriteLine($"topic: {rig.Audit}");
        var readBack = a.Current.Output.Split('\n').FirstOrDefault(line => line.Contains("are there already", StringComparison.Ordinal)) ?? "(no read-back line)";
        output.WriteLine(readBack);
        Assert.All(Replayed, id => Assert.Equal(1, rig.Audit.TimesSeen(id)));
        Assert.Equal(0, rig.Audit.Duplicates);
        Assert.Equal(Replayed.Length, await a.MetricAsync("collector_recovery_duplicates_avoided_total"));
        Assert.Contains($"0 under this spool's header and {Replayed.Length} of its replayed events under another's", readBack, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_hold_one_copy_when_the_survivor_that_stored_the_replay_takes_the_killed_collectors_spool_over()
    {
        await using var spool = await SharedSpool.StartAsync(postgres.Instance, "replay_takeover");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var b = await StoredByACollectorKilledBeforeItAnsweredAsync(spool, http);

        await spool.SetKafkaUpAsync();
        Assert.Equal(200, await PostAsync(http, b, Replayed));
        Assert.True(await spool.Audit.WaitUntilAsync(audit => Replayed.All(audit.Contains), DeliveryTimeout), $"b's copy never reached the topic: {spool.Audit}");

        await AssertTakenOverWithOneCopyAsync(spool, b);
    }

    [Fact]
    public async Task Should_hold_one_copy_when_the_survivor_takes_the_spool_over_before_kafka_has_the_copy_it_stored_from_the_replay()
    {
        await using var spool = await SharedSpool.StartAsync(postgres.Instance, "replay_takeover_kafka_down");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var b = await StoredByACollectorKilledBeforeItAnsweredAsync(spool, http);

        Assert.Equal(200, await PostAsync(http, b, Replayed));
        await b.Current.WaitForLineAsync(line => line.Contains("Spool spool-a-", StringComparison.Ordinal) && line.Contains("taken over", StringComparison.Ordinal),
            SharedSpool.TakeoverAfter * 3);
        // Kafka answers again, but refuses the next Produce requests for seconds (librdkafka retries them with a growing
        // backoff): the takeover reads the topic back while b's copy is only in b's journal.
        await spool.Kafka.Control.PushRequestErrorsAsync(KafkaApiKey.Produce, Enumerable.Repeat(ErrorCode.NotEnoughReplicas, 10).ToArray());
        await spool.SetKafkaUpAsync();
        var readBack = await b.Current.WaitForLineAsync(line => line.Contains("Spooler spool-a-", StringComparison.Ordinal) && line.Contains("are there already", StringComparison.Ordinal),
            DeliveryTimeout);

        await AssertTakenOverWithOneCopyAsync(spool, b);
        Assert.Contains($"this collector's own spoolers hold {Replayed.Length} of them", readBack, StringComparison.Ordinal);
    }

    /// <summary>
    /// Collectors a and b on one shared spool; with Kafka down, a stores the request and is killed before its answer
    /// leaves, and is never started again. Returns b, where the load balancer sends the replay.
    /// </summary>
    private static async Task<CollectorProcess> StoredByACollectorKilledBeforeItAnsweredAsync(SharedSpool spool, HttpClient http)
    {
        var a = await spool.StartCollectorAsync("a");
        var b = await spool.StartCollectorAsync("b");
        await spool.SetKafkaDownAsync();
        Assert.Equal(200, await PostAsync(http, a, Replayed));
        Assert.True(a.Kill());
        return b;
    }

    /// <summary>b takes a's spool over once its lock is free, delivers what it holds and lets it go; every replayed event is in Kafka once.</summary>
    private async Task AssertTakenOverWithOneCopyAsync(SharedSpool spool, CollectorProcess b)
    {
        await b.Current.WaitForLineAsync(line => line.Contains("Spool spool-a-", StringComparison.Ordinal) && line.Contains("letting it go", StringComparison.Ordinal),
            SharedSpool.TakeoverAfter * 3 + DeliveryTimeout);
        Assert.True(await spool.Audit.WaitUntilAsync(audit => Replayed.All(audit.Contains), DeliveryTimeout), $"b's copy never reached the topic: {spool.Audit}");
        Assert.True(await spool.Audit.WaitUntilReadToEndAsync(DeliveryTimeout), $"the audit did not read the topic to its end: {spool.Audit}");

        output.WriteLine($"topic: {spool.Audit}");
        output.WriteLine(string.Join('\n', b.Current.Lines.Select(l => l.Text).Where(l => l.Contains("spool-a-", StringComparison.Ordinal))));
        Assert.All(Replayed, id => Assert.Equal(1, spool.Audit.TimesSeen(id)));
        Assert.Equal(0, spool.Audit.Duplicates);
        Assert.Equal(Replayed.Length, await b.MetricAsync("collector_recovery_duplicates_avoided_total"));
    }

    private static Dictionary<string, string> InstanceId(string name) => new() { ["Collector__InstanceId"] = name };

    private static async Task<int> PostAsync(HttpClient http, CollectorProcess collector, string[] messageIds)
    {
        var body = "{\"batch\":[" + string.Join(',', messageIds.Select(id => $$"""{"type":"track","event":"e","userId":"{{User}}","messageId":"{{id}}"}""")) + "]}";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{collector.BaseUrl}/v1/batch")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("replay:"u8));
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }
}
