using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Rig;

/// <summary>The loopback ports fixtures give the servers they start (HAProxy takes two at once).</summary>
public sealed class LoopbackPortTests
{
    [Fact]
    public void Should_hand_out_ports_that_all_differ_when_asked_for_several()
    {
        var ports = LoopbackPort.Free(32);

        Assert.Equal(32, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 1024, 65535));
    }
}
