using Akka.Hosting;
using AkkaCollector;
using AkkaCollector.Ingress;
using AkkaCollector.Lookups;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using AkkaCollector.Verbs;
using Prometheus;

if (args is ["kafka-mock", ..])
    return await KafkaMockVerb.RunAsync(args[1..]);

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
    builder.WebHost.UseUrls("http://127.0.0.1:8080");

builder.Services.AddCollectorSpool(builder.Configuration);
builder.Services.AddCollectorPublishing(builder.Configuration);
builder.Services.AddCollectorLookups(builder.Configuration);
builder.Services.AddTrackingApi(builder.Configuration);

builder.Services.AddAkka("collector", (akka, provider) =>
{
    akka.AddHoconFile(CollectorHocon.PathOf("akka.conf"), HoconAddMode.Append);
    akka.ConfigureLoggers(loggers => loggers.AddLoggerFactory());
    akka.WithCollectorSpool(provider);
    akka.WithCollectorLookups();
});

var app = builder.Build();
app.MapTrackingApi();
app.MapMetrics();

await app.RunAsync();
return 0;
