using System.Text.Encodings.Web;
using System.Text.Json.Serialization;

namespace AkkaCollector;

/// <summary>
/// Answers the routing layer gives without a body (404 for an unknown path, 405 for a known path and another method)
/// as JSON like every other answer but 200: <c>{"error":"..."}</c>, naming the route or the methods it takes.
/// </summary>
public static class JsonStatusAnswers
{
    /// <summary>
    /// The encoder for every JSON answer: readable quotes and non-ASCII text instead of <c>\u0027</c> escapes. The
    /// default encoder escapes them in case JSON is pasted into HTML; these answers are application/json, never HTML.
    /// </summary>
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>Writes bodiless 404 and 405 answers as JSON; registers the readable encoder for minimal APIs' JSON.</summary>
    public static IServiceCollection AddJsonStatusAnswers(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Encoder = Encoder);

    /// <summary>Call early in the pipeline: it fills in answers that later parts leave without a body.</summary>
    public static IApplicationBuilder UseJsonStatusAnswers(this IApplicationBuilder app) =>
        app.UseStatusCodePages(async status =>
        {
            var response = status.HttpContext.Response;
            var request = status.HttpContext.Request;
            var error = response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"no route {request.Method} {request.Path}; the routes are in README.md (HTTP API)",
                StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not take {request.Method}; it takes {response.Headers.Allow}",
                _ => null,
            };
            if (error is not null)
                await response.WriteAsJsonAsync(new ErrorAnswer(error)).ConfigureAwait(false);
        });
}

/// <summary>
/// The body of every JSON error outside the tracking API (whose errors are <c>IngressError</c>s): what went wrong and,
/// where one applies, the setting or header it is about.
/// </summary>
public sealed record ErrorAnswer(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("field"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field = null);
