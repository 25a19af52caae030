using AkkaCollector.Shutdown;

namespace AkkaCollector.Tests.Shutdown;

internal static class ReadinessAnswer
{
    /// <summary>What /health/ready would answer: its body and whether its status is 200.</summary>
    public static (string State, bool Ready) Answer(this ReadinessGate gate) => (gate.State, gate.IsReady);
}
