using AkkaCollector.Shutdown;

namespace AkkaCollector.IntegrationTests.Shutdown;

/// <summary>The shipped hocon/shutdown.conf, read as the collector reads it.</summary>
internal static class ShippedShutdown
{
    /// <summary>
    /// The kill window the collector promises to exit inside of, timed from the signal as a process manager times it.
    /// Tests hold it without a margin of their own: the plan keeps its safety-margin (1 s) free inside it, for the
    /// runtime's exit and a loaded machine, and a process manager would SIGKILL at the window whatever the load.
    /// </summary>
    public static readonly TimeSpan KillWindow = ShutdownPlan.FromConfig(CollectorHocon.Load("shutdown.conf")).KillWindow;
}
