using Akka.Configuration;
using AkkaCollector.Shutdown;
using Microsoft.Extensions.Configuration;

namespace AkkaCollector.Verbs;

/// <summary>
/// <c>AkkaCollector shutdown-plan</c>: prints the coordinated-shutdown budget against the kill window, with the
/// same configuration the service would start with; exits 0 when it fits, <see cref="ShutdownPlan.DoesNotFitExitCode"/> when not.
/// </summary>
public static class ShutdownPlanVerb
{
    /// <summary>The verb's name on the command line.</summary>
    public const string Name = "shutdown-plan";

    /// <summary>Prints the table and the verdict, for the budget the profile's HOCON (<paramref name="profileHocon"/>) sets.</summary>
    public static int Run(IConfiguration configuration, Config profileHocon, TextWriter output)
    {
        var plan = ShutdownSettings.Load(configuration, profileHocon).Plan;
        output.WriteLine(plan.Render());
        return plan.Fits ? 0 : ShutdownPlan.DoesNotFitExitCode;
    }
}
