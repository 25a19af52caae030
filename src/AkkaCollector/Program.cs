using Akka.Hosting;
using Akka.Persistence.Sql;
using AkkaCollector;
using AkkaCollector.Ingress;
using AkkaCollector.Lookups;
using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using AkkaCollector.Verbs;
using Microsoft.Extensions.Options;
using Prometheus;

if (args is ["kafka-mock", ..])
    return await KafkaMockVerb.RunAsync(args[1..]);

var builder = WebApplication.CreateBuilder(args);
var profile = CollectorProfile.Apply(builder.Configuration);
if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
    builder.WebHost.UseUrls("http://127.0.0.1:8080");

builder.Services.AddValidatedOptions<SpoolOptions>(builder.Configuration, SpoolOptions.Section);
builder.Services.AddSingleton<IValidateOptions<SpoolOptions>, SpoolOptionsValidator>();
builder.Services.AddValidatedOptions<KafkaOptions>(builder.Configuration, KafkaOptions.Section);

builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<SpoolOptions>>().Value is var o ? new SpoolStatus(o.Partitions, o.MaxBytesPerPartition) : null!);
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
    akka.AddHocon(CollectorHocon.LoadProfile(profile), HoconAddMode.Prepend);
    akka.AddHocon(Spool.JournalConfig(sp.GetRequiredService<IOptions<SpoolOptions>>().Value), HoconAddMode.Prepend);
    akka.AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append);
    akka.ConfigureLoggers(loggers => loggers.AddLoggerFactory());
    akka.WithActors((system, _, resolver) => resolver.GetService<Spool>().Start(system));
});

var app = builder.Build();
app.MapTrackingApi();
app.MapMetrics();

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception error) when (ConfigurationValidation.FindValidationFailure(error) is { } invalid)
{
    // Fail fast and legibly: one line per bad setting, no stack trace, an exit code process managers can tell apart.
    foreach (var failure in invalid.Failures)
        Console.Error.WriteLine($"Invalid configuration: {failure}");
    return ConfigurationValidation.InvalidConfigurationExitCode;
}
