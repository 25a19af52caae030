using AkkaCollector.IntegrationTests.Durability;
using AkkaCollector.Testing.Kafka;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Browser;

/// <summary>@segment/analytics-node from npm, unmodified, run by node against a collector process: its events reach Kafka once.</summary>
public sealed class NodeSdkTests
{
    [Fact]
    public async Task Should_store_each_analytics_node_call_once_with_host_set_to_the_collector()
    {
        PageServer.RequireSdks();
        var records = new System.Collections.Concurrent.ConcurrentQueue<AuditedRecord>();
        await using var stack = await CollectorWithKafka.StartAsync(brokers: 1, inspect: records.Enqueue);
        var script = Path.Combine(Path.GetTempPath(), $"analytics-node-{Guid.NewGuid():N}.cjs");
        await File.WriteAllTextAsync(script, $$"""
            const { createRequire } = require('module');
            const sdk = createRequire({{System.Text.Json.JsonSerializer.Serialize(Path.Combine(PageServer.SdkFolder, "..", "package.json"))}})('@segment/analytics-node');
            const analytics = new sdk.Analytics({ writeKey: 'node-key', host: '{{stack.Collector.BaseUrl}}', flushAt: 2 });
            const failures = [];
            analytics.on('error', e => failures.push(String(e.reason ?? e.code ?? e)));
            analytics.on('http_request', e => console.log('request ' + e.method + ' ' + e.url));
            analytics.identify({ userId: 'node-user', messageId: 'node-identify-1', traits: { plan: 'pro' } });
            analytics.track({ userId: 'node-user', messageId: 'node-track-1', event: 'Server Side' });
            analytics.closeAndFlush({ timeout: 20000 }).then(() => {
              console.log(failures.length ? 'failed ' + failures.join('; ') : 'flushed');
              process.exit(failures.length ? 1 : 0);
            });
            """);
        try
        {
            using var node = ChildProcess.Start("node", [script]);
            var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));

            Assert.True(exit == 0, $"node exited {exit}:\n{node.Output}");
            Assert.Contains(node.Lines, line => line.Text == $"request POST {stack.Collector.BaseUrl}/v1/batch");
            Assert.True(await stack.Audit.WaitUntilAsync(audit => audit.Contains("node-identify-1") && audit.Contains("node-track-1"), TimeSpan.FromSeconds(60)),
                $"not in Kafka: {stack.Audit}\n{node.Output}");
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(1, stack.Audit.TimesSeen("node-identify-1"));
            Assert.Equal(1, stack.Audit.TimesSeen("node-track-1"));
            Assert.Equal(2, records.Count(record => record.Headers.GetValueOrDefault("writeKey") == "node-key"));
        }
        finally
        {
            File.Delete(script);
        }
    }
}
