using Akka.Actor;
using Akka.Event;

namespace AkkaCollector.Spooling;

/// <summary>
/// Finds spools that are nobody's to deliver and drains them (invariant 9 of <see cref="SpoolerActor"/>): spools of a
/// collector that is gone (a shared PostgreSQL spool, looked for every TakeoverAfter / 4 once the grace after connecting
/// is over), and, in this collector's own journal, spools written before instance ids, under another instance id, or
/// beyond Spool:Partitions. Each gets a <see cref="SpoolPartition"/> in the drain role, which claims it (a spool whose
/// claim somebody holds is theirs: that partition just ends), delivers it through the spooler's own recovery, and lets go.
/// </summary>
public sealed class SpoolTakeover : ReceiveActor, IWithTimers
{
    private readonly IReadOnlySet<SpoolId> _own;
    private readonly ISpoolOwnership _ownership;
    private readonly Func<SpoolId, Props> _drainProps;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, SpoolId> _draining = [];

    public SpoolTakeover(IReadOnlySet<SpoolId> own, ISpoolOwnership ownership, Func<SpoolId, Props> drainProps)
    {
        _own = own;
        _ownership = ownership;
        _drainProps = drainProps;
        Receive<Scan>(_ => HandleScan());
        Receive<Found>(HandleFound);
        Receive<Status.Failure>(failure =>
        {
            _log.Warning(failure.Cause, "Could not list the spools in the journal; looking again later");
            ScheduleScan();
        });
        Receive<Terminated>(terminated => _draining.Remove(terminated.ActorRef));
    }

    public static Props Props(IReadOnlySet<SpoolId> own, ISpoolOwnership ownership, Func<SpoolId, Props> drainProps) =>
        Akka.Actor.Props.Create(() => new SpoolTakeover(own, ownership, drainProps));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Self.Tell(Scan.Instance);

    private void HandleScan()
    {
        if (!_ownership.MayTakeOver)
        {
            Timers.StartSingleTimer("scan", Scan.Instance, TimeSpan.FromSeconds(1));
            return;
        }
        _ownership.UndeliveredSpoolsAsync().PipeTo(Self, success: spools => new Found(spools));
    }

    private void HandleFound(Found found)
    {
        var draining = _draining.Values.ToHashSet();
        foreach (var spool in found.Spools.Where(s => !_own.Contains(s) && !draining.Contains(s)))
            _draining[Context.Watch(Context.ActorOf(_drainProps(spool)))] = spool;
        ScheduleScan();
    }

    private void ScheduleScan()
    {
        if (_ownership.ScanEvery is { } every)
            Timers.StartSingleTimer("scan", Scan.Instance, every);
    }

    private sealed record Scan
    {
        public static readonly Scan Instance = new();
    }

    private sealed record Found(IReadOnlyList<SpoolId> Spools);
}
