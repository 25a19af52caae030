using System.Net;

namespace AkkaCollector.Rig.Traffic;

/// <summary>
/// The collectors traffic goes to, taken in turn as a round-robin load balancer would. Only loopback addresses are
/// accepted: the rig generates load against collectors it runs on this machine, never against anything else.
/// </summary>
public sealed class TargetPool
{
    private readonly Uri[] _targets;
    private long _next = -1;

    /// <exception cref="ArgumentException">No target, or a target that is not http(s) on a loopback address.</exception>
    public TargetPool(IEnumerable<Uri> targets)
    {
        _targets = targets.ToArray();
        if (_targets.Length == 0)
            throw new ArgumentException("At least one collector URL is needed.", nameof(targets));
        foreach (var target in _targets)
            EnsureLoopback(target);
    }

    /// <summary>Every target, in round-robin order.</summary>
    public IReadOnlyList<Uri> Targets => _targets;

    /// <summary>The next target in turn; safe from many threads.</summary>
    public Uri Next() => _targets[(int)((ulong)Interlocked.Increment(ref _next) % (ulong)_targets.Length)];

    /// <summary>Parses comma-separated URLs (e.g. <c>http://127.0.0.1:8080,http://127.0.0.1:8081</c>).</summary>
    public static TargetPool Parse(string urls) =>
        new(urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(url =>
            Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : throw new ArgumentException($"'{url}' is not an absolute URL.")));

    private static void EnsureLoopback(Uri target)
    {
        if (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException($"'{target}' is not an http(s) URL.");
        var loopback = target.IsLoopback || (IPAddress.TryParse(target.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));
        if (!loopback)
            throw new ArgumentException($"'{target}' is not a loopback address; the rig sends traffic only to 127.0.0.1, ::1 or localhost.");
    }
}
