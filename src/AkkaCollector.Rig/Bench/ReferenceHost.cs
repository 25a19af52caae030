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
/// What the bench's two reference hosts share (<see cref="NoopHostVerb"/>, <see cref="FloorHostVerb"/>): Kestrel's slim
/// host, the ingress's own body reader at its default limit, and the answer a stored request gets. What each does with
/// a body is the only difference between them, and beside the collector's route. <c>GET /jit</c> says how long the JIT
/// has compiled so far, so the bench warms them up as it warms the collector. They live in the rig, not the service,
/// so the product has no route that acknowledges what it does not store.
/// </summary>
internal static class ReferenceHost
{
    public const string EventPath = "/event";
    public const string JitPath = "/jit";

    /// <summary>Serves until the rig's SIGTERM/Ctrl+C token fires (the rig's Program owns the signal handlers).</summary>
    public static async Task RunAsync(CommandLine line, Func<ReadOnlyMemory<byte>, Task> store, CancellationToken stop)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(line.Text("urls") ?? throw new ArgumentException("A reference host needs --urls http://127.0.0.1:PORT"));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var limit = new IngressOptions().MaxRequestBytes;
        app.MapPost(EventPath, async Task<Results<IngressSuccess, IngressError>> (HttpContext context) =>
        {
            var read = await RequestBodyReader.ReadAsync(context.Request, limit, context.RequestAborted);
            if (!read.TryGetValue(out var body, out var error))
                return error;
            using (body)
                await store(body.Memory);
            return IngressSuccess.Stored;
        });
        app.MapGet(JitPath, () => TypedResults.Text(System.Runtime.JitInfo.GetCompilationTime().TotalSeconds.ToString(CultureInfo.InvariantCulture)));
        await app.StartAsync(stop);
        await app.WaitForShutdownAsync(stop);
    }
}
