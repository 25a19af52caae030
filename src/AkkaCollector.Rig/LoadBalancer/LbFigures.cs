using AkkaCollector.Testing.Deploy;

namespace AkkaCollector.Rig.LoadBalancer;

/// <summary>A stretch of the run during which the scenario itself had stopped or killed a collector (from the signal until it was live again).</summary>
public sealed record ScenarioOutage(string Server, double From, double To);

/// <summary>
/// The load balancer's view of a run, the story's NGINX 5xx and "ELB marking half the hosts unhealthy".
/// </summary>
/// <param name="ServerErrors">Answers 500 and above HAProxy sent to producers (its front end's hrsp_5xx: the collectors' and its own).</param>
/// <param name="MarkedDown">Times HAProxy took out of rotation a collector that was running and not shutting down (see <see cref="Compute"/>).</param>
/// <param name="NotAnswered">Requests the producers got no answer to at all (connection errors and timeouts, from the ledger).</param>
/// <param name="Retries">Requests HAProxy sent again: on the same collector (the back end's wretr) or another one (wredis).</param>
/// <param name="Redispatches">Of those, sent to another collector (wredis).</param>
/// <param name="MarkedDownAt">Each counted mark-down: the collector and when it was seen.</param>
public sealed record LbFigures(long ServerErrors, int MarkedDown, long NotAnswered, long Retries, long Redispatches, IReadOnlyList<string> MarkedDownAt)
{
    /// <summary>
    /// How long after a scenario's outage ends a mark-down still belongs to it: HAProxy notices a stopped collector
    /// after up to fall (2) x inter (1 s) and the rig polls each second.
    /// </summary>
    public static readonly TimeSpan CheckLag = TimeSpan.FromSeconds(3);

    /// <summary>A run that stopped before HAProxy started saw nothing through it.</summary>
    public static readonly LbFigures None = new(0, 0, 0, 0, 0, []);

    /// <summary>
    /// The targets of a run through the load balancer: producers saw no 5xx and no request unanswered, and HAProxy took
    /// no running collector out of rotation (a collector without Redis or Kafka stays ready). A run that misses them fails.
    /// </summary>
    public bool Clean => ServerErrors == 0 && MarkedDown == 0 && NotAnswered == 0;

    /// <summary>The line printed before the verdict: <c>lb: 5xx=N marked_down=N not_answered=N</c>.</summary>
    public string Line => $"lb: 5xx={ServerErrors} marked_down={MarkedDown} not_answered={NotAnswered}";

    /// <summary>
    /// Counts the mark-downs in <paramref name="samples"/> (a collector's chkdown grew between two polls) that no
    /// <paramref name="outages"/> entry of that collector explains: a collector the scenario killed or stopped was
    /// expected to leave the rotation, so only the others count.
    /// </summary>
    public static LbFigures Compute(
        IReadOnlyList<LbSample> samples, IReadOnlyList<ScenarioOutage> outages, HaproxyStatsRow? frontend, HaproxyStatsRow? backend, long notAnswered)
    {
        var counted = new List<string>();
        foreach (var server in samples.GroupBy(s => s.Server))
        {
            LbSample? previous = null;
            foreach (var sample in server.OrderBy(s => s.Seconds))
            {
                if (previous is not null && sample.CheckDowns > previous.CheckDowns && !Expected(server.Key, previous.Seconds, sample.Seconds, outages))
                {
                    for (var i = previous.CheckDowns; i < sample.CheckDowns; i++)
                        counted.Add($"{server.Key} at {sample.Seconds:0.0} s");
                }
                previous = sample;
            }
        }
        return new LbFigures(frontend?.Responses5xx ?? 0, counted.Count, notAnswered, (backend?.Retries ?? 0) + (backend?.Redispatches ?? 0), backend?.Redispatches ?? 0, counted);
    }

    private static bool Expected(string server, double after, double seenAt, IReadOnlyList<ScenarioOutage> outages) =>
        outages.Any(o => o.Server == server && seenAt >= o.From && after <= o.To + CheckLag.TotalSeconds);
}

/// <summary>Everything the report shows of the load balancer and the monitoring: the figures, each collector's state over time, the alerts.</summary>
/// <param name="Alerts">Alerts pending or firing at some point of the run; null when Prometheus could not be asked (<paramref name="AlertsUnknownBecause"/>).</param>
/// <param name="Collectors">Each collector's name by the host:port Prometheus knows it as (its <c>instance</c> label).</param>
public sealed record LoadBalancerView(
    LbFigures Figures, IReadOnlyList<LbSample> Samples, IReadOnlyList<AlertSeen>? Alerts, IReadOnlyDictionary<string, string> Collectors, string? AlertsUnknownBecause = null);
