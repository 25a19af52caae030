using AkkaCollector.Testing.Faults;

namespace AkkaCollector.Rig.Faults;

/// <summary>How a cut link fails, as a collector sees it.</summary>
public enum CutMode
{
    /// <summary>Connections are accepted and nothing ever answers: a network ACL that drops packets.</summary>
    BlackHole,

    /// <summary>New connections are refused and open ones reset: the host is gone.</summary>
    Refuse,

    /// <summary>Every connection is reset.</summary>
    Reset,
}

/// <summary>The network path from some collectors to one dependency, which a scenario can cut and restore.</summary>
public interface IDependencyLink : IAsyncDisposable
{
    /// <summary>For logs: what is linked to what, and how.</summary>
    string Description { get; }

    Task CutAsync(CutMode mode, CancellationToken cancellationToken);

    Task RestoreAsync(CancellationToken cancellationToken);
}

/// <summary>
/// A path through TCP fault proxies (one per upstream address): cutting it switches every proxy to the fault at
/// once, restoring switches them back to pass. Owns the proxies and stops them when disposed.
/// </summary>
public sealed class ProxyLink(string description, IReadOnlyList<TcpFaultProxy> proxies) : IDependencyLink
{
    public string Description => description;

    /// <summary>The proxies' addresses (127.0.0.1:PORT, comma-separated), which clients are given instead of the upstreams'.</summary>
    public string Addresses => string.Join(',', proxies.Select(p => $"127.0.0.1:{p.Port}"));

    public Task CutAsync(CutMode mode, CancellationToken cancellationToken)
    {
        foreach (var proxy in proxies)
        {
            switch (mode)
            {
                case CutMode.BlackHole:
                    proxy.BlackHole();
                    break;
                case CutMode.Refuse:
                    proxy.Refuse();
                    break;
                case CutMode.Reset:
                    proxy.Reset();
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(mode), mode, null);
            }
        }
        return Task.CompletedTask;
    }

    public Task RestoreAsync(CancellationToken cancellationToken)
    {
        foreach (var proxy in proxies)
            proxy.Pass();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var proxy in proxies)
            proxy.Dispose();
        return ValueTask.CompletedTask;
    }
}
