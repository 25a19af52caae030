using Akka.Hosting;
using AkkaCollector;
using AkkaCollector.Ingress;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using AkkaCollector.Shutdown;
using AkkaCollector.Spooling;
using AkkaCollector.Verbs;
using Prometheus;

if (args is ["kafka-mock", ..])
    return await KafkaMockVerb.RunAsync(args[1..]);

MetricsExport.CollectorMetricsOnly();
var builder = WebApplication.CreateBuilder(args);
var profile = CollectorProfile.Apply(builder.Configuration);
switch (args.FirstOrDefault())
{
    case ShutdownPlanVerb.Name:
        return ShutdownPlanVerb.Run(builder.Configuration, Console.Out);
    case ShutdownVerb.Name:
        return await ShutdownVerb.RunAsync(args[1..], Console.Out, Console.Error);
}

if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
    builder.WebHost.UseUrls("http://127.0.0.1:8080");
builder.Logging.AddCollectorConsole(builder.Configuration);

var shutdown = builder.AddCollectorShutdown();
if (shutdown.RefusesToStart(Console.Error))
    return ShutdownPlan.DoesNotFitExitCode;

builder.Services.AddCollectorSpool(builder.Configuration);
builder.Services.AddCollectorPublishing(builder.Configuration);
builder.Services.AddCollectorLookups(builder.Configuration);
builder.Services.AddTrackingApi(builder.Configuration);

builder.Services.AddAkka("collector", (akka, provider) =>
{
    // Prepended last, so it comes first: the profile wins over the shutdown budget and every concern's defaults.
    akka.AddCollectorShutdownHocon(shutdown);
    akka.AddHocon(CollectorHocon.LoadProfile(profile), HoconAddMode.Prepend);
    akka.AddHoconFile(CollectorHocon.PathOf("akka.conf"), HoconAddMode.Append);
    akka.ConfigureLoggers(loggers => loggers.AddLoggerFactory());
    akka.WithCollectorSpool(provider);
    akka.WithDeliveryShutdownTasks(shutdown);
    akka.WithCollectorLookups();
});

var app = builder.Build();
// First, so every request is counted before anything else can answer it: shutdown waits for the count to reach 0.
app.UseInFlightRequests();
app.MapTrackingApi();
app.MapLiveness();
app.MapReadiness();
app.MapAdminShutdown();
app.MapMetrics();
app.MapDashboard();
app.LogLifecycle(CollectorSummary.Describe);
ProcessMetrics.Register(Metrics.DefaultRegistry);

try
{
    await app.RunAsync();
}
catch (Exception error) when (ConfigurationValidation.FindValidationFailure(error) is { } invalid)
{
    // Fail fast and legibly: one line per bad setting, no stack trace, an exit code process managers can tell apart.
    foreach (var failure in invalid.Failures)
        Console.Error.WriteLine($"Invalid configuration: {failure}");
    return ConfigurationValidation.InvalidConfigurationExitCode;
}
// Akka.Hosting sets a non-zero exit code when the actor system ends for a reason other than a requested stop.
return Environment.ExitCode;
