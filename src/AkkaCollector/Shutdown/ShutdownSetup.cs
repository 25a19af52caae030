using Akka.Configuration;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCollector.Shutdown;

/// <summary>The wiring Program.cs calls: services, the start-up check, and the shutdown HOCON for the actor system.</summary>
public static class ShutdownSetup
{
    /// <summary>
    /// Registers the readiness gate, the in-flight counter and <see cref="CollectorShutdownService"/> (which reads
    /// the spool's status for its last log line); returns the settings, read under the profile's HOCON
    /// (<paramref name="profileHocon"/>), so Program.cs can refuse to start (<see cref="RefusesToStart"/>) before
    /// building anything else.
    /// </summary>
    public static ShutdownSettings AddCollectorShutdown(this WebApplicationBuilder builder, Config profileHocon)
    {
        var settings = ShutdownSettings.Load(builder.Configuration, profileHocon);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<ReadinessGate>();
        builder.Services.AddSingleton<InFlightRequests>();
        builder.Services.AddSingleton<CollectorShutdownService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CollectorShutdownService>());
        return settings;
    }

    /// <summary>
    /// True when the plan does not fit the kill window; the table and the verdict, naming each phase, then go to
    /// <paramref name="error"/> and the caller exits with <see cref="ShutdownPlan.DoesNotFitExitCode"/>.
    /// </summary>
    public static bool RefusesToStart(this ShutdownSettings settings, TextWriter error)
    {
        if (settings.Plan.Fits)
            return false;
        error.WriteLine("Refusing to start: coordinated shutdown does not fit inside the kill window.");
        error.WriteLine(settings.Plan.Render());
        return true;
    }

    /// <summary>Puts the shutdown HOCON in front of the actor system's, so Akka runs the budget the plan checked.</summary>
    public static AkkaConfigurationBuilder AddCollectorShutdownHocon(this AkkaConfigurationBuilder akka, ShutdownSettings settings) =>
        akka.AddHocon(settings.Hocon, HoconAddMode.Prepend);
}
