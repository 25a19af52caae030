using System.Globalization;
using AkkaCollector.Ingress;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// <c>noop-host --urls URL</c>: the benchmark's HTTP ceiling, a Kestrel host of its own that reads each body exactly as
/// the tracking API does (the ingress's own reader, its default limit) and answers what a stored request is answered,
/// but parses, validates, spools and counts nothing. What it reaches is what Kestrel and the body read alone allow on
/// this machine; the collector's routes are measured against it. It lives here, not in the service, so the product
/// has no route that acknowledges what it does not store. <c>GET /jit</c> says how long the JIT has compiled so far,
/// so the bench warms it up as it warms the collector.
/// </summary>
public static class NoopHostVerb
{
    public const string Name = "noop-host";
    public const string NoopPath = "/noop";
    public const string JitPath = "/jit";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken stop)
    {
        var line = new CommandLine(args, ["urls"], []);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(line.Text("urls") ?? throw new ArgumentException("noop-host needs --urls http://127.0.0.1:PORT"));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var limit = new IngressOptions().MaxRequestBytes;
        app.MapPost(NoopPath, async Task<Results<IngressSuccess, IngressError>> (HttpContext context) =>
        {
            var read = await RequestBodyReader.ReadAsync(context.Request, limit, context.RequestAborted);
            if (!read.TryGetValue(out var body, out var error))
                return error;
            body.Dispose();
            return IngressSuccess.Stored;
        });
        app.MapGet(JitPath, () => TypedResults.Text(System.Runtime.JitInfo.GetCompilationTime().TotalSeconds.ToString(CultureInfo.InvariantCulture)));
        // Runs until the rig's SIGTERM/Ctrl+C token fires (the rig's Program owns the signal handlers).
        await app.StartAsync(stop);
        await app.WaitForShutdownAsync(stop);
        return 0;
    }
}
