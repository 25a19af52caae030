using Akka.Hosting;
using AkkaCollector;
using AkkaCollector.Ingress;
using AkkaCollector.LiveEvents;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using AkkaCollector.Shutdown;
using AkkaCollector.Spooling;
using AkkaCollector.Verbs;
using Prometheus;

if (args is ["kafka-mock", ..])
    return await KafkaMockVerb.RunAsync(args[1..]);

if (args is [ShutdownVerb.Name, ..])
    return await ShutdownVerb.RunAsync(args[1..], Console.Out, Console.Error);

MetricsExport.CollectorMetricsOnly();
// appsettings.json is read from beside the binary, as the HOCON files and profiles are, whatever directory the
// process manager starts it in: from the working directory, a start elsewhere would silently drop the operator's
// settings and the shipped log levels (ASP.NET Core would log every request).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var settings = SettingsCheck.Apply(builder.Configuration);
if (settings.Failures.Count > 0)
    return ConfigurationValidation.Refuse(settings.Failures, Console.Error);
var profileHocon = CollectorHocon.LoadProfile(settings.Profile);
if (args is [ShutdownPlanVerb.Name, ..])
    return ShutdownPlanVerb.Run(builder.Configuration, profileHocon, Console.Out);

var urls = builder.Configuration[ListenAddresses.Key];
if (string.IsNullOrEmpty(urls))
{
    urls = ListenAddresses.Default;
    builder.WebHost.UseUrls(urls);
}
if (ListenAddresses.FirstUnavailable(urls) is { } unavailable)
    return ListenAddresses.Refuse(unavailable, Console.Error);
builder.Logging.AddCollectorConsole(builder.Configuration);

var shutdown = builder.AddCollectorShutdown(profileHocon);
if (shutdown.RefusesToStart(Console.Error))
    return ShutdownPlan.DoesNotFitExitCode;

builder.Services.AddCollectorSpool(builder.Configuration);
builder.Services.AddCollectorPublishing(builder.Configuration);
builder.Services.AddCollectorLookups(builder.Configuration);
builder.Services.AddTrackingApi(builder.Configuration);
builder.Services.AddLiveEvents(builder.Configuration);
builder.Services.AddJsonStatusAnswers();

builder.Services.AddAkka("collector", (akka, provider) =>
{
    // Prepended in turn, so the last comes first: the shutdown budget (the profile's, with the .NET overrides on top,
    // exactly as the plan checked it), then the profile, over every concern's defaults.
    akka.AddHocon(profileHocon, HoconAddMode.Prepend);
    akka.AddCollectorShutdownHocon(shutdown);
    akka.AddHoconFile(CollectorHocon.PathOf("akka.conf"), HoconAddMode.Append);
    akka.ConfigureLoggers(loggers => loggers.AddLoggerFactory());
    akka.WithCollectorSpool(provider);
    akka.WithDeliveryShutdownTasks(shutdown);
    akka.WithCollectorLookups();
});

var app = builder.Build();
if (SettingsCheck.OptionsFailures(app.Services) is { Count: > 0 } outOfRange)
    return ConfigurationValidation.Refuse(outOfRange, Console.Error);
// First, so every request is counted before anything else can answer it: shutdown waits for the count to reach 0.
app.UseInFlightRequests();
app.UseJsonStatusAnswers();
app.MapTrackingApi();
app.MapLiveness();
app.MapReadiness();
app.MapAdminShutdown();
app.MapMetrics();
app.MapDashboard();
app.MapLiveEvents(shutdown.Options.AdminToken);
app.LogLifecycle(CollectorSummary.Describe);
ProcessMetrics.Register(Metrics.DefaultRegistry);

try
{
    await app.StartAsync();
}
catch (Exception error)
{
    return await StartFailure.StopAsync(app, error, Console.Error);
}
await app.WaitForShutdownAsync();
await app.DisposeAsync();
// Akka.Hosting sets a non-zero exit code when the actor system ends for a reason other than a requested stop.
return Environment.ExitCode;
