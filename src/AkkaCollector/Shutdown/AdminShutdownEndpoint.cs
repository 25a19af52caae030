using System.Text;
using System.Text.Json.Serialization;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AkkaCollector.Shutdown;

/// <summary>
/// <c>POST /admin/shutdown</c>: an operator asks for a coordinated shutdown over HTTP (the <c>shutdown</c> verb calls it).
/// Off unless <c>Shutdown:AdminToken</c> is configured (a 404 then says how to turn it on); the caller sends it as a bearer token.
/// </summary>
public static class AdminShutdownEndpoint
{
    /// <summary>The route.</summary>
    public const string Path = "/admin/shutdown";

    /// <summary>The setting that turns the endpoint on.</summary>
    public const string TokenSetting = "Shutdown:AdminToken";

    /// <summary>What a caller hears while the endpoint is off: how to turn it on.</summary>
    public const string OffError =
        "the admin endpoint is off: start the collector with Shutdown:AdminToken=TOKEN (env Shutdown__AdminToken) and send Authorization: Bearer TOKEN";

    // A reason is for the log line; a short one is enough and a huge one is not a reason.
    private const int MaxReasonLength = 200;

    /// <summary>Maps the endpoint when a token is configured; answers 202 and starts shutdown once the answer is sent.</summary>
    public static IEndpointRouteBuilder MapAdminShutdown(this IEndpointRouteBuilder endpoints)
    {
        var token = endpoints.ServiceProvider.GetRequiredService<ShutdownSettings>().Options.AdminToken;
        if (string.IsNullOrEmpty(token))
        {
            endpoints.MapPost(Path, () => TypedResults.Json(new ErrorAnswer(OffError, TokenSetting), statusCode: StatusCodes.Status404NotFound));
            return endpoints;
        }

        var admin = new AdminToken(token);
        endpoints.MapPost(Path, async Task<Results<JsonHttpResult<ShutdownAccepted>, JsonHttpResult<ErrorAnswer>>> (
            HttpContext context, CollectorShutdownService shutdown, ILoggerFactory loggers) =>
        {
            if (!admin.Admits(context.Request))
                return AdminToken.Refused(context);

            var reason = await ReadReasonAsync(context.Request).ConfigureAwait(false);
            loggers.CreateLogger(typeof(AdminShutdownEndpoint)).LogWarning(
                "Coordinated shutdown requested by {Remote} via {Path}: {Reason}", context.Connection.RemoteIpAddress, Path, reason);
            // After the answer is on the wire: the phases close this very connection, and the caller must hear 202 first.
            context.Response.OnCompleted(() =>
            {
                _ = shutdown.RunAsync(new AdminShutdownReason(reason));
                return Task.CompletedTask;
            });
            return TypedResults.Json(new ShutdownAccepted("shutting down", reason), statusCode: StatusCodes.Status202Accepted);
        });
        return endpoints;
    }

    private static async Task<string> ReadReasonAsync(HttpRequest request)
    {
        string reason = request.Query["reason"].ToString();
        if (reason.Length == 0)
        {
            var buffer = new char[MaxReasonLength];
            using var body = new StreamReader(request.Body, Encoding.UTF8);
            reason = new string(buffer, 0, await body.ReadBlockAsync(buffer).ConfigureAwait(false));
        }
        reason = reason.Trim();
        if (reason.Length == 0)
            return "no reason given";
        return reason.Length > MaxReasonLength ? reason[..MaxReasonLength] : reason;
    }
}

/// <summary>Shutdown asked for through <c>POST /admin/shutdown</c>, with the operator's words.</summary>
public sealed class AdminShutdownReason(string text) : CoordinatedShutdown.Reason
{
    /// <summary>The reason the operator gave.</summary>
    public string Text { get; } = text;

    /// <summary>An operator's stop is a clean exit.</summary>
    public override int ExitCode => 0;

    /// <inheritdoc />
    public override string ToString() => $"admin endpoint: {Text}";
}

/// <summary>The admin endpoint's 202: shutdown has begun, and why.</summary>
public sealed record ShutdownAccepted([property: JsonPropertyName("status")] string Status, [property: JsonPropertyName("reason")] string Reason);
