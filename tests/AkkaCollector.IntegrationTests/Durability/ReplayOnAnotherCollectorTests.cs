using System.Net.Http.Headers;
using System.Text;
using AkkaCollector.Testing.Processes;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>
/// A collector killed between its journal write and its answer has stored a request the load balancer then replays on
/// another collector (HAProxy's <c>retry-on empty-response</c>), whose spool stores and delivers it too. Both copies are
/// the same events: the killed collector's spool, delivered after its restart, leaves out what the other one delivered.
/// Real processes under their own instance ids, as a deployment names them, so the two copies carry different spool headers.
/// </summary>
public sealed class ReplayOnAnotherCollectorTests(ITestOutputHelper output)
{
    private const string User = "replayed-user";
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_hold_one_copy_of_a_request_a_collector_stored_before_kill_9_and_another_stored_from_the_replay()
    {
        await using var rig = await CollectorWithKafka.StartAsync(brokers: 1, InstanceId("a"));
        using var b = await CollectorProcess.StartAsync(rig.Kafka.BootstrapServers, InstanceId("b"));
        var a = rig.Collector;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var replayed = Enumerable.Range(1, 10).Select(n => $"replayed-{n}").ToArray();

        // Kafka is down, so a's copy stays in its spool: a's Kafka client loses it with the process.
        await rig.SetAllBrokersDownAsync();
        Assert.Equal(200, await PostAsync(http, a, replayed));
        Assert.True(a.Kill());
        await rig.SetAllBrokersUpAsync();
        Assert.Equal(200, await PostAsync(http, b, replayed));
        Assert.True(await rig.Audit.WaitUntilAsync(audit => replayed.All(audit.Contains), DeliveryTimeout), $"b's copy never reached the topic: {rig.Audit}");

        await a.RestartAsync();
        // One user: one spooler and one Kafka partition, in journal order. Once this event is in the topic, the replayed
        // batch before it was handed over or left out.
        Assert.Equal(200, await PostAsync(http, a, ["after-restart"]));
        Assert.True(await rig.Audit.WaitUntilAsync(audit => audit.Contains("after-restart"), DeliveryTimeout), $"a's next event never reached the topic: {rig.Audit}");

        output.WriteLine($"topic: {rig.Audit}");
        output.WriteLine(a.Current.Output.Split('\n').FirstOrDefault(line => line.Contains("are there already", StringComparison.Ordinal)) ?? "(no read-back line)");
        Assert.All(replayed, id => Assert.Equal(1, rig.Audit.TimesSeen(id)));
        Assert.Equal(0, rig.Audit.Duplicates);
        Assert.Equal(replayed.Length, await a.MetricAsync("collector_recovery_duplicates_avoided_total"));
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
