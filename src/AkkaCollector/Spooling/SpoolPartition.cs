using Akka.Actor;
using Akka.Event;

namespace AkkaCollector.Spooling;

/// <summary>
/// Keeps one spooler running. Akka.Persistence stops a persistent actor whose journal write failed; this parent
/// starts a fresh one after a pause (it replays what reached the journal) and, while none runs, answers
/// Enqueue with Failed at once so producers get a 503 instead of waiting for a timeout.
/// </summary>
public sealed class SpoolPartition : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan MinRestartDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(5);

    private readonly Props _spoolerProps;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _spooler;
    private TimeSpan _restartDelay = MinRestartDelay;
    private DateTime _startedAt;

    public SpoolPartition(Props spoolerProps)
    {
        _spoolerProps = spoolerProps;
        Receive<Terminated>(HandleSpoolerStopped);
        Receive<RestartSpooler>(_ => StartSpooler());
        Receive<Enqueue>(HandleEnqueue);
        ReceiveAny(message => _spooler?.Forward(message));
    }

    public static Props Props(Props spoolerProps) => Akka.Actor.Props.Create(() => new SpoolPartition(spoolerProps));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => StartSpooler();

    private void StartSpooler()
    {
        _spooler = Context.Watch(Context.ActorOf(_spoolerProps));
        _startedAt = DateTime.UtcNow;
    }

    private void HandleEnqueue(Enqueue request)
    {
        if (_spooler is null)
            request.RequesterFrom(Sender).Answer(SpoolReply.Failed);
        else
            _spooler.Forward(request);
    }

    private void HandleSpoolerStopped(Terminated terminated)
    {
        if (!terminated.ActorRef.Equals(_spooler))
            return;
        _spooler = null;
        // Back off while failures come quickly; a spooler that ran a while earns a fast restart again.
        _restartDelay = DateTime.UtcNow - _startedAt > TimeSpan.FromSeconds(30)
            ? MinRestartDelay
            : TimeSpan.FromTicks(Math.Min(MaxRestartDelay.Ticks, _restartDelay.Ticks * 2));
        _log.Warning("Spooler {0} stopped; restarting it in {1} ms", Self.Path.Name, _restartDelay.TotalMilliseconds);
        Timers.StartSingleTimer("restart", RestartSpooler.Instance, _restartDelay);
    }

    private sealed record RestartSpooler
    {
        public static readonly RestartSpooler Instance = new();
    }
}
