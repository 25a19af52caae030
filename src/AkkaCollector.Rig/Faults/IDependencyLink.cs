using AkkaCollector.Testing.Kafka;

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
/// A zone's path to its own Kafka mock cluster, cut by taking every broker down through the mock's control port.
/// The mock closes its listeners, so every cut looks like <see cref="CutMode.Refuse"/> whatever mode was asked for.
/// </summary>
public sealed class MockBrokersLink(string zone, MockControlClient control) : IDependencyLink
{
    public string Description => $"zone {zone} -> its Kafka mock (brokers down/up)";

    public Task CutAsync(CutMode mode, CancellationToken cancellationToken) => control.SetBrokerDownAsync(MockCluster.AllBrokers, cancellationToken);

    public Task RestoreAsync(CancellationToken cancellationToken) => control.SetBrokerUpAsync(MockCluster.AllBrokers, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
