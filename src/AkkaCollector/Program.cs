using Akka.Hosting;
using AkkaCollector.Shutdown;
using AkkaCollector.Verbs;

var builder = WebApplication.CreateBuilder(args);
switch (args.FirstOrDefault())
{
    case ShutdownPlanVerb.Name:
        return ShutdownPlanVerb.Run(builder.Configuration, Console.Out);
    case ShutdownVerb.Name:
        return await ShutdownVerb.RunAsync(args[1..], Console.Out, Console.Error);
}

var shutdown = builder.AddCollectorShutdown();
if (shutdown.RefusesToStart(Console.Error))
    return ShutdownPlan.DoesNotFitExitCode;
builder.Services.AddAkka("collector", akka => akka.AddCollectorShutdownHocon(shutdown));

var app = builder.Build();
app.UseInFlightRequests();
app.MapReadiness();
app.MapAdminShutdown();

app.MapGet("/", () => "Hello World!");

app.Run();
// Akka.Hosting sets a non-zero exit code when the actor system ends for a cluster reason.
return Environment.ExitCode;
