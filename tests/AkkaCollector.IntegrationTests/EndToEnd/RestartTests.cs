using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AkkaCollector.IntegrationTests.Durability;
using AkkaCollector.IntegrationTests.Shutdown;
using AkkaCollector.KafkaMock;
using AkkaCollector.Rig.Verification;
using AkkaCollector.Testing.Processes;
using Xunit.Abstractions;

namespace AkkaCollector.IntegrationTests.EndToEnd;

/// <summary>
/// Restarts as operators do them, under traffic, with real processes: SIGTERM by PID, the shipped kill window as the
/// deadline, a restart on the same spool, and the Kafka topic as the judge of what was kept.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class RestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan KillWindow = ShippedShutdown.KillWindow;
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(30);
    private const int Workers = 16;
    // service-requests-done's log line when every request that entered the pipeline has left it, answered.
    private const string EveryRequestAnswered = "service-requests-done: every request answered";

    [Fact]
    public async Task Should_exit_0_inside_the_kill_window_on_SIGTERM_under_load_without_failing_an_accepted_request()
    {
        await using var rig = await CollectorWithKafka.StartAsync();
        var collector = rig.Collector;
        // Retries (same messageId) ride out the restart: refused connections are the only failures a producer may see.
        using var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger, Producer.Sending(3_000, Workers) with { Rate = 300 });
        var sending = producer.RunAsync(CancellationToken.None);
        Assert.True(await ledger.WaitForAcksAsync(600, TimeSpan.FromSeconds(20)), $"no steady traffic: {ledger}");

        var signalledAt = DateTimeOffset.UtcNow;
        var (exitCode, exitTime, ackedAtSignal, ackedAtExit) = await TerminateAsync(collector, ledger);
        await collector.RestartAsync();
        var liveAgainAt = DateTimeOffset.UtcNow;
        await sending;
        var lost = await new DeliveryCheck(output, ledger, rig.Audit).ReportAsync("SIGTERM under load", DeliveryTimeout, collector, exitTime);

        var refused = ledger.Failures.Where(IsRefusedConnection).ToList();
        var unread = ledger.Failures.Where(IsResetConnection).ToList();
        var otherFailures = ledger.Failures.Except(refused).Except(unread).ToList();
        var everyAcceptedAnswered = collector.Output.Contains(EveryRequestAnswered, StringComparison.Ordinal);
        output.WriteLine($"SIGTERM at {ackedAtSignal} acks; exit {exitCode} after {exitTime.TotalSeconds:F2} s (kill window {KillWindow.TotalSeconds:F0} s), " +
                         $"{ackedAtExit - ackedAtSignal} answered 200 meanwhile; {refused.Count} refused connections; {unread.Count} reset before the collector " +
                         $"read them (collector: {(everyAcceptedAnswered ? "every accepted request answered" : "requests aborted")}); other failures: {otherFailures.Count}");
        foreach (var failure in unread.Concat(otherFailures).Take(10))
            output.WriteLine($"  {failure}");
        Assert.Equal(0, exitCode);
        Assert.Empty(otherFailures);
        // A connection that reaches the listener just as it closes at unbind is reset by the kernel (or by Kestrel,
        // before it reads a byte): the request was never accepted. A load balancer stops sending during the drain,
        // so it would not see this; a producer that connects directly can. The collector's own count proves no
        // request it accepted was cut off; each producer has at most one request in flight.
        Assert.True(unread.Count == 0 || everyAcceptedAnswered, $"{unread.Count} requests reset while the collector aborted requests it had accepted");
        // The resets belong to the unbind: none before the signal, none once the new incarnation was live, at most one
        // per producer (each has one request in flight).
        Assert.All(unread, reset => Assert.InRange(producer.Stats.StartedAt.AddMilliseconds(reset.ElapsedMs), signalledAt, liveAgainAt));
        Assert.True(unread.Count <= Workers, $"{unread.Count} resets for {Workers} producers");
        Assert.Empty(ledger.NeverAcked);
        Assert.Empty(lost);
        // The drain answered requests after the signal, and the restart made producers wait at most a refusal.
        Assert.True(ackedAtExit > ackedAtSignal, "nothing was answered between SIGTERM and exit");
        Assert.NotEmpty(refused);
    }

    [Fact]
    public async Task Should_exit_inside_the_kill_window_while_kafka_answers_in_2_seconds_and_deliver_the_rest_after_the_next_start()
    {
        await using var rig = await CollectorWithKafka.StartAsync();
        var collector = rig.Collector;
        using var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger, Producer.Sending(1_500, concurrency: 16) with { GiveUpAfter = TimeSpan.Zero });
        await rig.Kafka.Control.SetRoundTripTimeAsync(MockCluster.AllBrokers, 2_000);
        await producer.RunAsync(CancellationToken.None);
        var seenAtSignal = rig.Audit.Count;

        var (exitCode, exitTime, _, _) = await TerminateAsync(collector, ledger);
        var remaining = RemainingSpooled(collector.Current);
        var seenAtExit = rig.Audit.Count;
        await rig.Kafka.Control.SetRoundTripTimeAsync(MockCluster.AllBrokers, 0);
        await collector.RestartAsync();
        var lost = await new DeliveryCheck(output, ledger, rig.Audit).ReportAsync("SIGTERM with a slow Kafka", DeliveryTimeout, collector, exitTime);

        output.WriteLine($"{ledger.AckedCount} acked; {seenAtSignal} in the topic at SIGTERM, {seenAtExit} at exit; exit {exitCode} after " +
                         $"{exitTime.TotalSeconds:F2} s (kill window {KillWindow.TotalSeconds:F0} s) with {remaining} events spooled");
        Assert.Equal(0, exitCode);
        Assert.Equal(1_500, ledger.AckedCount);
        // The slow Kafka really left work for the next start, and the next start did it.
        Assert.True(remaining > 0, "every event was delivered before exit: the slow Kafka left nothing for the restart to prove");
        Assert.Empty(lost);
    }

    [Fact]
    public async Task Should_deliver_what_every_spool_holds_after_a_restart_with_fewer_spool_partitions()
    {
        const int events = 200;
        await using var rig = await CollectorWithKafka.StartAsync(settings: new Dictionary<string, string> { ["Spool__Partitions"] = "8" });
        var collector = rig.Collector;
        using var ledger = new Ledger();
        using var producer = Producer.To(collector, ledger, Producer.Sending(events, concurrency: 8) with { GiveUpAfter = TimeSpan.Zero });
        await rig.SetAllBrokersDownAsync();
        await producer.RunAsync(CancellationToken.None);

        var (exitCode, exitTime, _, _) = await TerminateAsync(collector, ledger);
        var spooledAtExit = RemainingSpooled(collector.Current);
        await collector.RestartAsync(new Dictionary<string, string> { ["Spool__Partitions"] = "2" });
        await rig.SetAllBrokersUpAsync();
        var lost = await new DeliveryCheck(output, ledger, rig.Audit).ReportAsync("8 spool partitions, then 2", DeliveryTimeout, collector, exitTime);

        var drained = collector.Current.Lines.Select(line => BeyondPartitions().Match(line.Text)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups["spool"].Value, CultureInfo.InvariantCulture)).Order().ToList();
        output.WriteLine($"exit {exitCode} with {spooledAtExit} events spooled; after the restart the spools beyond 2 were drained: {string.Join(", ", drained)}");
        Assert.Equal(0, exitCode);
        Assert.Equal(events, ledger.AckedCount);
        Assert.Equal(events, spooledAtExit);
        Assert.Equal([2, 3, 4, 5, 6, 7], drained);
        Assert.Empty(lost);
    }

    /// <summary>SIGTERM by PID, then the exit, which must be 0 and come inside the kill window (timed from the signal); returns the exit code, how long it took, and the acks at signal and at exit.</summary>
    private static async Task<(int ExitCode, TimeSpan ExitTime, int AckedAtSignal, int AckedAtExit)> TerminateAsync(CollectorProcess collector, Ledger ledger)
    {
        var ackedAtSignal = ledger.AckedCount;
        var stop = await collector.StopAsync(KillWindow);
        // The collector's last lines say where a failed shutdown stopped; the outcome names a native crash's frames (CI once saw exit 139 here).
        if (!stop.KeptTheKillWindow)
            Assert.Fail($"SIGTERM: {stop} (kill window {KillWindow.TotalSeconds:F0} s); its last lines:\n{collector.Current.OutputTail(30)}");
        return (stop.ExitCode, stop.Elapsed, ackedAtSignal, ledger.AckedCount);
    }

    /// <summary>The backlog the stopped incarnation reported on its last line.</summary>
    private static long RemainingSpooled(ChildProcess process)
    {
        var last = process.Lines.Last(line => line.Stream == OutputStream.Stdout && line.Text.Trim().Length > 0).Text;
        var match = FinalLine().Match(last);
        Assert.True(match.Success, $"last line: {last}");
        return long.Parse(match.Groups["remaining"].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>A connection the collector never accepted: refused because nothing listened (after unbind, before the restart).</summary>
    private static bool IsRefusedConnection(LedgerEntry failure) => failure.Cause == "connection ConnectionRefused";

    /// <summary>
    /// A connection reset under a request that was sent: at unbind, one the collector never read from. NotConnected is
    /// the same reset come a moment earlier, between the kernel's accept and the client reading the peer's address.
    /// </summary>
    private static bool IsResetConnection(LedgerEntry failure) =>
        failure.Cause is "connection ConnectionReset" or "connection ResponseEnded" or "connection NotConnected";

    [GeneratedRegex(@"Shutdown complete in \d+\.\d+s .*; (?<remaining>\d+) events remain spooled$")]
    private static partial Regex FinalLine();

    [GeneratedRegex(@"Spool spool-\S+-(?<spool>\d+) taken over: no running spooler delivers it")]
    private static partial Regex BeyondPartitions();
}
