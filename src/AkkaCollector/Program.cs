if (args.Length > 0 && args[0] == "kafka-mock") return await AkkaCollector.Verbs.KafkaMockVerb.RunAsync(args[1..]);

var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.MapGet("/", () => "Hello World!");

app.Run();
return 0;
