using System.Diagnostics;
using AkkaCollector.IntegrationTests.Spooling;
using AkkaCollector.Rig.Verification;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.Durability;

/// <summary>
/// "Every acknowledged event exactly once in Kafka", proven with real processes: a collector killed with SIGKILL at a
/// random point of a stream of events, ten times in a row, on each spool provider. The sender never retries, so a
/// copy in the topic can only come from the collector sending an event twice.
/// </summary>
/// <remarks>Both spools in one class: its tests run one after the other, not beside each other on a 2-core runner.</remarks>
public sealed class OneCopyInKafkaTests(PostgresServerFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresServerFixture>
{
    private const int Rounds = 10;
    private const int EventsPerRound = 1_200;
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public Task Should_hold_every_acked_event_once_after_ten_kill_9s_at_random_points_on_SQLite() =>
        KillAtRandomPointsAsync(new Dictionary<string, string>());

    [Fact]
    public async Task Should_hold_every_acked_event_once_after_ten_kill_9s_at_random_points_on_PostgreSQL()
    {
        var connectionString = await postgres.Instance.CreateDatabaseAsync("one_copy");
        await KillAtRandomPointsAsync(new Dictionary<string, string>
        {
            ["Spool__Provider"] = "postgresql",
            ["Spool__ConnectionString"] = connectionString,
        });
    }

    private async Task KillAtRandomPointsAsync(IReadOnlyDictionary<string, string> settings)
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        await using var rig = await CollectorWithKafka.StartAsync(brokers: 1, settings);
        var (audit, collector) = (rig.Audit, rig.Collector);
        output.WriteLine($"seed {seed}");

        var acked = 0;
        for (var round = 1; round <= Rounds; round++)
        {
            using var ledger = new Ledger();
            using var producer = Producer.To(collector, ledger, Producer.Sending(EventsPerRound, concurrency: 16) with { GiveUpAfter = TimeSpan.Zero });
            var killAt = random.Next(50, EventsPerRound * 2 / 3);
            var sending = producer.RunAsync(CancellationToken.None);
            Assert.True(await ledger.WaitForAcksAsync(killAt, TimeSpan.FromSeconds(30)), $"round {round}: no {killAt} acks: {ledger}");
            Assert.True(collector.Kill());
            // Connections refused from here: the sender gives every remaining event up at once.
            await sending;
            await collector.RestartAsync();

            var lost = await new DeliveryCheck(output, ledger, audit).MissingAfterAsync(DeliveryTimeout);
            acked += ledger.AckedCount;
            output.WriteLine($"round {round}: kill -9 at {killAt} acks; {ledger.AckedCount} acked; lost {lost.Count}; topic: {audit.Duplicates} duplicates so far ({audit.Records} records)");
            Assert.Empty(lost);
            Assert.Equal(0, audit.Duplicates);
        }

        Assert.True(await audit.WaitUntilReadToEndAsync(DeliveryTimeout), $"the audit did not read the topic to its end: {audit}");
        output.WriteLine($"{Rounds} rounds, {acked} acked, {clock.Elapsed.TotalSeconds:F1} s; topic: {audit}");
        Assert.Equal(0, audit.Duplicates);
    }
}
