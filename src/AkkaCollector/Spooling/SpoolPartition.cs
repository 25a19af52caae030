using Akka.Actor;
using Akka.Event;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

/// <summary>
/// Keeps one spooler running while this collector owns its spool (invariant 9 of <see cref="SpoolerActor"/>). It claims
/// the spool first (<see cref="ISpoolOwnership"/>); Akka.Persistence stops a persistent actor whose journal write failed,
/// and this parent starts a fresh one after a pause (it replays what reached the journal). While none runs it answers
/// Enqueue with Failed at once, so producers get a 503 instead of waiting for a timeout.
/// <list type="bullet">
/// <item>Own spool: a claim another collector holds (it took the spool over while this one was gone) is tried again every
/// second, the partition reported full meanwhile (readiness is 503); once the taker has drained and let go, the spool
/// is handed back. A spool taken over while this collector was cut off or paused stops its spooler and is claimed again.</item>
/// <item>Drain (a spool taken over): a claim somebody else holds ends it; once drained, the claim is given up.</item>
/// </list>
/// </summary>
public sealed class SpoolPartition : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    private static readonly TimeSpan MinRestartDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ClaimRetry = TimeSpan.FromSeconds(1);

    private readonly SpoolId _spool;
    private readonly SpoolRole _role;
    private readonly Props _spoolerProps;
    private readonly ISpoolOwnership _ownership;
    private readonly SpoolStatus? _status;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _spooler;
    private bool _owned;
    /// <summary>A claim is being asked for: requests wait for its answer rather than being refused.</summary>
    private bool _claiming;
    private bool _waitedForClaim;
    private TimeSpan _restartDelay = MinRestartDelay;
    private DateTime _startedAt;

    public SpoolPartition(SpoolId spool, SpoolRole role, Props spoolerProps, ISpoolOwnership ownership, SpoolStatus? status)
    {
        _spool = spool;
        _role = role;
        _spoolerProps = spoolerProps;
        _ownership = ownership;
        _status = role == SpoolRole.Own ? status : null;
        Receive<Claimed>(HandleClaimed);
        Receive<Claim>(_ => ClaimSpool());
        Receive<OwnershipLost>(lost =>
        {
            if (lost.Spools.Contains(_spool))
                HandleOwnershipLost();
        });
        Receive<SpoolDrained>(HandleDrained);
        Receive<Terminated>(HandleSpoolerStopped);
        Receive<RestartSpooler>(_ => StartSpooler());
        Receive<Enqueue>(HandleEnqueue);
        ReceiveAny(message =>
        {
            if (_claiming)
                Stash.Stash();
            else
                _spooler?.Forward(message);
        });
    }

    public static Props Props(SpoolId spool, SpoolRole role, Props spoolerProps, ISpoolOwnership ownership, SpoolStatus? status = null) =>
        Akka.Actor.Props.Create(() => new SpoolPartition(spool, role, spoolerProps, ownership, status));

    /// <summary>A partition with its spooler, claimed through <paramref name="ownership"/>; a drain's asks <paramref name="localSpools"/> (SpoolerActor, invariant 8).</summary>
    public static Props For(SpoolId spool, SpoolRole role, SpoolOptions options, SpoolStatus? status, IEventPublisher publisher, ISpoolReader reader,
        IKafkaReadBack kafkaReadBack, ISpoolOwnership ownership, IReadOnlyList<IActorRef>? localSpools = null) =>
        Props(spool, role, SpoolerActor.Props(spool, role, options, status, publisher, reader, kafkaReadBack, ownership, localSpools: localSpools), ownership, status);

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(OwnershipLost));
        ClaimSpool();
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        if (_owned)
            CollectorMetrics.SpoolsOwned.Dec();
    }

    private void ClaimSpool()
    {
        _claiming = true;
        _ownership.TryTakeAsync(_spool).PipeTo(Self, success: taken => new Claimed(taken), failure: _ => new Claimed(null));
    }

    private void HandleClaimed(Claimed claimed)
    {
        _claiming = false;
        try
        {
            TakeClaim(claimed.Taken);
        }
        finally
        {
            Stash.UnstashAll();
        }
    }

    private void TakeClaim(bool? taken)
    {
        if (taken != true && _role == SpoolRole.Drain)
        {
            Context.Stop(Self);
            return;
        }
        if (taken is null)
        {
            // No lock session yet (starting) or now (database unreachable): nobody can own the spool; ask again.
            ClaimAgain();
            return;
        }
        if (taken == false)
        {
            if (!_waitedForClaim)
                _log.Warning("Spool {0} is held by another collector (one that took it over while this one was gone, or one running under the same Collector:InstanceId); waiting for it to let go, unready meanwhile", _spool);
            _waitedForClaim = true;
            ClaimAgain();
            return;
        }
        _owned = true;
        CollectorMetrics.SpoolsOwned.Inc();
        if (_role == SpoolRole.Own && _waitedForClaim)
            _log.Info("Spool {0} handed back: the collector that took it over let it go; this collector owns it again", _spool);
        _waitedForClaim = false;
        StartSpooler();
    }

    private void StartSpooler()
    {
        _spooler = Context.Watch(Context.ActorOf(_spoolerProps));
        _startedAt = DateTime.UtcNow;
    }

    private void HandleEnqueue(Enqueue request)
    {
        if (_claiming)
            Stash.Stash();
        else if (_spooler is null)
            request.RequesterFrom(Sender).Answer(SpoolReply.Failed);
        else
            _spooler.Forward(request);
    }

    /// <summary>The spool was taken over while this collector was away: its spooler may not go on.</summary>
    private void HandleOwnershipLost()
    {
        if (!_owned)
            return;
        _owned = false;
        CollectorMetrics.SpoolsOwned.Dec();
        Timers.Cancel("restart");
        if (_role == SpoolRole.Drain)
            Context.Stop(Self);
        else if (_spooler is not null)
            Context.Stop(_spooler);
        else
            ClaimAgain();
    }

    private void ClaimAgain()
    {
        _status?.ReportFull(_spool.Partition, true);
        Timers.StartSingleTimer("claim", Claim.Instance, ClaimRetry);
    }

    private void HandleDrained(SpoolDrained drained)
    {
        if (drained.EventsDelivered > 0)
        {
            CollectorMetrics.SpoolsHandedBack.Inc();
            _log.Info("Spool {0}: delivered the {1} events it held and truncated it; letting it go (handed back to its collector if it returns)",
                _spool, drained.EventsDelivered);
        }
        if (_spooler is not null)
            Context.Stop(Context.Unwatch(_spooler));
        _spooler = null;
        _ownership.ReleaseAsync(_spool).PipeTo(Self, success: () => PoisonPill.Instance, failure: _ => PoisonPill.Instance);
    }

    private void HandleSpoolerStopped(Terminated terminated)
    {
        if (!terminated.ActorRef.Equals(_spooler))
            return;
        _spooler = null;
        if (!_owned)
        {
            // Taken over: claim it again; it is back once its taker has drained it and let go.
            ClaimAgain();
            return;
        }
        _status?.ReportStopped(_spool.Partition);
        // Back off while failures come quickly; a spooler that ran a while earns a fast restart again.
        _restartDelay = DateTime.UtcNow - _startedAt > TimeSpan.FromSeconds(30)
            ? MinRestartDelay
            : TimeSpan.FromTicks(Math.Min(MaxRestartDelay.Ticks, _restartDelay.Ticks * 2));
        _log.Warning("Spooler {0} stopped; restarting it in {1} ms", _spool, _restartDelay.TotalMilliseconds);
        Timers.StartSingleTimer("restart", RestartSpooler.Instance, _restartDelay);
    }

    private sealed record Claimed(bool? Taken);

    private sealed record Claim
    {
        public static readonly Claim Instance = new();
    }

    private sealed record RestartSpooler
    {
        public static readonly RestartSpooler Instance = new();
    }
}
