using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Pattern;
using AkkaCollector.Observability;

namespace AkkaCollector.Lookups;

/// <summary>The breaker policy every lookup shares, read from <c>collector.lookups.breaker</c> (hocon/lookups.conf).</summary>
public sealed record LookupBreakerSettings(
    int MaxFailures,
    TimeSpan CallTimeout,
    TimeSpan ResetTimeout,
    TimeSpan MaxResetTimeout,
    TimeSpan AskMargin)
{
    public const string ConfigPath = "collector.lookups.breaker";

    /// <summary>How long a request waits for a lookup actor: the breaker's bound plus mailbox slack.</summary>
    public TimeSpan AskTimeout => CallTimeout + AskMargin;

    public static LookupBreakerSettings From(Config config)
    {
        var section = config.GetConfig(ConfigPath)
            ?? throw new ConfigurationException($"{ConfigPath} is missing: load hocon/lookups.conf.");
        var settings = new LookupBreakerSettings(
            section.GetInt("max-failures"),
            section.GetTimeSpan("call-timeout"),
            section.GetTimeSpan("reset-timeout"),
            section.GetTimeSpan("max-reset-timeout"),
            section.GetTimeSpan("ask-margin"));
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        if (MaxFailures < 1)
            throw new ConfigurationException($"{ConfigPath}.max-failures must be at least 1, was {MaxFailures}.");
        // The whole point of the breaker is that a sick Redis costs a request less than a second.
        if (CallTimeout <= TimeSpan.Zero || CallTimeout >= TimeSpan.FromSeconds(1))
            throw new ConfigurationException($"{ConfigPath}.call-timeout must be above 0 and below 1s, was {CallTimeout}.");
        if (ResetTimeout <= TimeSpan.Zero || MaxResetTimeout < ResetTimeout)
            throw new ConfigurationException($"{ConfigPath}: reset-timeout must be above 0 and at most max-reset-timeout.");
        if (AskMargin < TimeSpan.Zero)
            throw new ConfigurationException($"{ConfigPath}.ask-margin must not be negative.");
    }
}

/// <summary>How one lookup call ended; each is its own metric label so outages never hide in one counter.</summary>
public enum LookupOutcome
{
    Ok,
    Failed,
    TimedOut,
    ShortCircuited,
}

/// <summary>A breaker state, as the <c>collector_breaker_state</c> gauge encodes it.</summary>
public enum BreakerPosition
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>Published on the actor system's event stream at every breaker transition (the rig and tests watch it).</summary>
public sealed record LookupBreakerTransition(string Lookup, BreakerPosition Position);

/// <summary>The result of one call through a <see cref="LookupBreaker"/>: the value only when the outcome is Ok.</summary>
public readonly record struct LookupCall<T>(LookupOutcome Outcome, T? Value)
{
    public bool Succeeded => Outcome == LookupOutcome.Ok;
}

/// <summary>
/// One Akka <see cref="CircuitBreaker"/> around one lookup's calls, with the shared policy: open after
/// max-failures, fail fast while open, one trial call when half-open, reset timeout doubling up to a bound.
/// Records every outcome and transition in <see cref="CollectorMetrics"/> and logs one line per transition.
/// </summary>
public sealed class LookupBreaker
{
    private readonly CircuitBreaker _breaker;
    private readonly ILoggingAdapter _log;
    private readonly EventStream _events;

    public LookupBreaker(string lookup, LookupBreakerSettings settings, ActorSystem system)
    {
        Lookup = lookup;
        Settings = settings;
        _log = Logging.GetLogger(system, $"lookups.{lookup}");
        _events = system.EventStream;
        // WithExponentialBackoff returns a new breaker, so the listeners go on that one.
        _breaker = new CircuitBreaker(system.Scheduler, settings.MaxFailures, settings.CallTimeout, settings.ResetTimeout)
            .WithExponentialBackoff(settings.MaxResetTimeout)
            .OnOpen(() => Transition(BreakerPosition.Open))
            .OnHalfOpen(() => Transition(BreakerPosition.HalfOpen))
            .OnClose(() => Transition(BreakerPosition.Closed));
        CollectorMetrics.BreakerState.WithLabels(lookup).Set((int)BreakerPosition.Closed);
    }

    /// <summary>The metric label of this lookup: rate_limit, app_registry.</summary>
    public string Lookup { get; }

    public LookupBreakerSettings Settings { get; }

    public bool IsOpen => _breaker.IsOpen;

    /// <summary>
    /// Runs <paramref name="call"/> through the breaker; never throws. The token passed to the call is cancelled at
    /// call-timeout, and the breaker stops waiting then even if the call ignores it.
    /// </summary>
    public async Task<LookupCall<T>> CallAsync<T>(Func<CancellationToken, Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        LookupCall<T> result;
        // While open, answer before asking the breaker: it would say the same by throwing OpenCircuitException, and
        // a throw per call cost 24-34 us of CPU per event in the benchmark's Redis black hole. The breaker's own timer
        // still moves it to half-open after the reset timeout, so the trial call is not delayed.
        if (_breaker.IsOpen)
            result = new LookupCall<T>(LookupOutcome.ShortCircuited, default);
        else
            result = await CallThroughBreakerAsync(call).ConfigureAwait(false);
        CollectorMetrics.LookupCalls.WithLabels(Lookup, Label(result.Outcome)).Inc();
        CollectorMetrics.LookupSeconds.WithLabels(Lookup).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    private async Task<LookupCall<T>> CallThroughBreakerAsync<T>(Func<CancellationToken, Task<T>> call)
    {
        try
        {
            // Task.Run: a client may block inside an *Async call before returning its task; started inline, that would
            // block the calling actor before the breaker's timer even starts. On the pool, the breaker stops at call-timeout.
            return new LookupCall<T>(LookupOutcome.Ok,
                await _breaker.WithCircuitBreaker(token => Task.Run(() => call(token), token)).ConfigureAwait(false));
        }
        catch (OpenCircuitException)
        {
            return new LookupCall<T>(LookupOutcome.ShortCircuited, default);
        }
        // The breaker's own bound surfaces as a cancellation; the Redis client's as a RedisTimeoutException.
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            return new LookupCall<T>(LookupOutcome.TimedOut, default);
        }
        catch (Exception e)
        {
            _log.Debug("Lookup {0} failed: {1}", Lookup, e.Message);
            return new LookupCall<T>(LookupOutcome.Failed, default);
        }
    }

    /// <summary>The metric label of an outcome.</summary>
    public static string Label(LookupOutcome outcome) => outcome switch
    {
        LookupOutcome.Ok => "ok",
        LookupOutcome.Failed => "failed",
        LookupOutcome.TimedOut => "timed_out",
        LookupOutcome.ShortCircuited => "short_circuited",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    private void Transition(BreakerPosition position)
    {
        var state = position switch
        {
            BreakerPosition.Open => "open",
            BreakerPosition.HalfOpen => "half_open",
            _ => "closed",
        };
        CollectorMetrics.BreakerState.WithLabels(Lookup).Set((int)position);
        CollectorMetrics.BreakerTransitions.WithLabels(Lookup, state).Inc();
        if (position == BreakerPosition.Open)
            _log.Warning("Lookup {0} breaker opened: answering its default until a trial call succeeds (last error: {1})",
                Lookup, _breaker.LastCaughtException?.Message ?? "none");
        else
            _log.Info("Lookup {0} breaker {1}", Lookup, position == BreakerPosition.HalfOpen ? "half-open: one trial call" : "closed: lookups resumed");
        _events.Publish(new LookupBreakerTransition(Lookup, position));
    }
}
