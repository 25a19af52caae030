using Akka.Actor;
using Akka.TestKit;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;

namespace AkkaCollector.Tests.Lookups;

/// <summary>The shared breaker policy, driven through the rate-limit actor with a store the test controls.</summary>
public sealed class LookupBreakerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly LookupBreakerSettings Settings = new(
        MaxFailures: 3,
        CallTimeout: TimeSpan.FromMilliseconds(100),
        ResetTimeout: TimeSpan.FromMilliseconds(300),
        MaxResetTimeout: TimeSpan.FromSeconds(2),
        AskMargin: TimeSpan.FromMilliseconds(50));

    private static readonly RateLimitOptions Limits = new()
    {
        PerWriteKey = new RateLimitRule { Rate = 10, Burst = 10 },
        PerClientIp = new RateLimitRule(),
    };

    private readonly ScriptedStore _store = new();
    private readonly TestProbe _transitions;
    private readonly IActorRef _rateLimiter;

    public LookupBreakerTests()
    {
        _transitions = CreateTestProbe();
        Sys.EventStream.Subscribe(_transitions, typeof(LookupBreakerTransition));
        _rateLimiter = Sys.ActorOf(RateLimitActor.Props(_store, Limits, Settings));
    }

    [Fact]
    public async Task Should_open_after_the_configured_failures_then_half_open_after_the_reset_timeout_and_close_on_a_successful_trial()
    {
        _store.Answer = _ => Task.FromException<TimeSpan?>(new InvalidOperationException("store down"));
        for (var i = 0; i < Settings.MaxFailures; i++)
            Assert.Null((await CheckAsync()).Rejection);
        await _transitions.ExpectMsgAsync(new LookupBreakerTransition(RateLimitActor.LookupName, BreakerPosition.Open));

        // The store would now reject: only a call that reaches it can produce a 429.
        _store.Answer = _ => Task.FromResult<TimeSpan?>(TimeSpan.FromSeconds(1));
        var callsWhileOpen = _store.Calls;
        Assert.Null((await CheckAsync()).Rejection);
        Assert.Equal(callsWhileOpen, _store.Calls);

        await _transitions.ExpectMsgAsync(new LookupBreakerTransition(RateLimitActor.LookupName, BreakerPosition.HalfOpen), TimeSpan.FromSeconds(2));
        Assert.Equal(429, (await CheckAsync()).Rejection?.StatusCode);
        await _transitions.ExpectMsgAsync(new LookupBreakerTransition(RateLimitActor.LookupName, BreakerPosition.Closed));
        Assert.Equal(429, (await CheckAsync()).Rejection?.StatusCode);
    }

    [Fact]
    public async Task Should_answer_the_declared_default_without_calling_the_store_while_the_breaker_is_open()
    {
        // A reset timeout no test run reaches: no half-open trial may reach the store, however slowly a busy machine runs this.
        var rateLimiter = Sys.ActorOf(RateLimitActor.Props(_store, Limits,
            Settings with { ResetTimeout = TimeSpan.FromMinutes(1), MaxResetTimeout = TimeSpan.FromMinutes(1) }));
        _store.Answer = _ => new TaskCompletionSource<TimeSpan?>().Task;
        for (var i = 0; i < Settings.MaxFailures; i++)
            await CheckAsync(rateLimiter);
        await _transitions.ExpectMsgAsync(new LookupBreakerTransition(RateLimitActor.LookupName, BreakerPosition.Open));
        var (callsBefore, skippedBefore) = (_store.Calls, Defaults("skipped"));

        for (var i = 0; i < 50; i++)
            Assert.Null((await CheckAsync(rateLimiter)).Rejection);

        // "At once" is structural: the store, which would hold every call for the whole call-timeout, was never asked.
        Assert.Equal(callsBefore, _store.Calls);
        Assert.Equal(50, Defaults("skipped") - skippedBefore);
    }

    [Fact]
    public async Task Should_give_up_on_a_call_at_the_call_timeout_and_count_it_as_timed_out()
    {
        var timedOutBefore = Calls("timed_out");
        _store.Answer = _ => new TaskCompletionSource<TimeSpan?>().Task;
        // The first timeout in a fresh process also pays for JIT; the bound is about every later one.
        await CheckAsync();

        // Timed on the clock .NET's timers count on (Environment.TickCount64: on Linux the kernel's coarse clock, whose
        // tick is 4-10 ms). A stopwatch reads a finer clock, against which a timer may fire up to one tick early, so
        // on this clock the bound below needs no slack. Above it, the slack absorbs a busy 2-core machine running
        // other test classes in parallel while staying under the 1 s that StackExchange.Redis's own heartbeat-driven
        // timeout would take: the breaker, not Redis, cut the call.
        var started = Environment.TickCount64;
        Assert.Null((await CheckAsync()).Rejection);
        var elapsed = TimeSpan.FromMilliseconds(Environment.TickCount64 - started);

        Assert.InRange(elapsed, Settings.CallTimeout, Settings.CallTimeout + TimeSpan.FromMilliseconds(500));
        Assert.Equal(2, Calls("timed_out") - timedOutBefore);
    }

    [Fact]
    public async Task Should_count_failures_timeouts_and_short_circuits_apart()
    {
        string[] outcomes = ["ok", "failed", "timed_out", "short_circuited"];
        var before = outcomes.ToDictionary(o => o, Calls);

        _store.Answer = _ => Task.FromResult<TimeSpan?>(null);
        await CheckAsync();
        _store.Answer = _ => Task.FromException<TimeSpan?>(new InvalidOperationException("store down"));
        await CheckAsync();
        await CheckAsync();
        _store.Answer = _ => new TaskCompletionSource<TimeSpan?>().Task;
        await CheckAsync();
        await _transitions.ExpectMsgAsync(new LookupBreakerTransition(RateLimitActor.LookupName, BreakerPosition.Open));
        await CheckAsync();

        var counted = outcomes.ToDictionary(o => o, o => Calls(o) - before[o]);
        Assert.Equal(new Dictionary<string, double> { ["ok"] = 1, ["failed"] = 2, ["timed_out"] = 1, ["short_circuited"] = 1 }, counted);
    }

    /// <summary>
    /// Async all the way: a blocking ExpectMsg would hold a pool thread that the breaker's timer needs. The wait is
    /// generous because the suite runs on 2 busy cores; how fast an answer came is measured by the tests themselves.
    /// </summary>
    private async Task<RateLimitAnswer> CheckAsync(IActorRef? rateLimiter = null)
    {
        (rateLimiter ?? _rateLimiter).Tell(new CheckRateLimit("write-key", null), TestActor);
        return await ExpectMsgAsync<RateLimitAnswer>(TimeSpan.FromSeconds(5));
    }

    private static double Calls(string outcome) =>
        CollectorMetrics.LookupCalls.WithLabels(RateLimitActor.LookupName, outcome).Value;

    private static double Defaults(string name) =>
        CollectorMetrics.LookupDefaultsUsed.WithLabels(RateLimitActor.LookupName, name).Value;

    /// <summary>A rate-limit store whose answer the test sets.</summary>
    private sealed class ScriptedStore : IRateLimitStore
    {
        private int _calls;

        public Func<CancellationToken, Task<TimeSpan?>> Answer { get; set; } = _ => Task.FromResult<TimeSpan?>(null);

        public int Calls => Volatile.Read(ref _calls);

        public Task<TimeSpan?> TakeAsync(string bucket, RateLimitRule rule, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return Answer(cancellationToken);
        }
    }
}
