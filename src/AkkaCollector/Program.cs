using Akka.Hosting;
using Akka.Persistence.Sql;
using AkkaCollector;
using AkkaCollector.Ingress;
using AkkaCollector.Lookups;
using AkkaCollector.Observability;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using AkkaCollector.Verbs;
using Microsoft.Extensions.Options;
using Prometheus;

if (args is ["kafka-mock", ..])
    return await KafkaMockVerb.RunAsync(args[1..]);

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
    builder.WebHost.UseUrls("http://127.0.0.1:8080");
builder.Logging.AddCollectorConsole(builder.Configuration);

builder.Services.AddOptions<SpoolOptions>().Bind(builder.Configuration.GetSection(SpoolOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddOptions<KafkaOptions>().Bind(builder.Configuration.GetSection(KafkaOptions.Section)).ValidateDataAnnotations().ValidateOnStart();

builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<SpoolOptions>>().Value is var o ? new SpoolStatus(o.Partitions, o.MaxBytesPerPartition, sp.GetRequiredService<ILogger<SpoolStatus>>()) : null!);
builder.Services.AddSingleton<KafkaConnection>();
builder.Services.AddSingleton(sp => new KafkaPublisher(
    sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
    sp.GetRequiredService<KafkaConnection>().BootstrapServers,
    sp.GetRequiredService<ILogger<KafkaPublisher>>()));
builder.Services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<KafkaPublisher>());
builder.Services.AddSingleton<Spool>();
builder.Services.AddSingleton<IEventSpool>(sp => sp.GetRequiredService<Spool>());
builder.Services.AddSingleton<IRequestLookups, NoLookups>();
builder.Services.AddTrackingApi(builder.Configuration);

builder.Services.AddAkka("collector", (akka, sp) =>
{
    akka.AddHocon(CollectorHocon.Load(), HoconAddMode.Append);
    akka.AddHocon(Spool.JournalConfig(sp.GetRequiredService<IOptions<SpoolOptions>>().Value), HoconAddMode.Prepend);
    akka.AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append);
    akka.AddSetup(Spool.JournalDataOptions(sp.GetRequiredService<IOptions<SpoolOptions>>().Value));
    akka.ConfigureLoggers(loggers => loggers.AddLoggerFactory());
    akka.WithActors((system, _, resolver) => resolver.GetService<Spool>().Start(system));
});

var app = builder.Build();
app.MapTrackingApi();
app.MapMetrics();
app.MapLiveness();
app.MapDashboard();
app.LogLifecycle();
ProcessMetrics.Register(Metrics.DefaultRegistry);

await app.RunAsync();
return 0;
