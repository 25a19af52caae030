using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AkkaCollector.Lookups;

namespace AkkaCollector.Ingress;

/// <summary>
/// Every answer but 200 that a producer can get from the tracking API: status, metric cause, a reason a person can
/// act on and, when one field is to blame, its path (<c>batch[3].event</c>). Written as <c>{"error":"...","field":"..."}</c>;
/// answers that invite a retry carry Retry-After.
/// </summary>
public sealed record IngressError(int StatusCode, string Cause, string Error, string? Field = null, TimeSpan? RetryAfter = null)
    : IResult, IStatusCodeHttpResult
{
    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public static IngressError BadRequest(string error, string? field = null) => new(StatusCodes.Status400BadRequest, "bad_request", error, field);

    public static IngressError TooLarge(string error, string? field = null) => new(StatusCodes.Status413PayloadTooLarge, "too_large", error, field);

    public static IngressError UnsupportedEncoding(string encoding) =>
        new(StatusCodes.Status415UnsupportedMediaType, "unsupported_encoding", $"Content-Encoding '{encoding}' is not supported; send gzip or identity.");

    public static IngressError MissingWriteKey(string field) =>
        new(StatusCodes.Status401Unauthorized, "unauthorized", "missing write key", field);

    public static readonly IngressError InvalidCredentials =
        new(StatusCodes.Status401Unauthorized, "unauthorized", "the Authorization header is not valid Basic credentials", "Authorization");

    /// <summary>A browser request from a page whose origin is not in Ingress:AllowedOrigins; it gets no CORS headers.</summary>
    public static IngressError OriginNotAllowed(string origin) =>
        new(StatusCodes.Status403Forbidden, "origin_not_allowed",
            $"pages of the origin '{origin}' may not send events here; the operator lists allowed origins in Ingress:AllowedOrigins", "Origin");

    /// <summary>A CORS preflight asking for a method this route does not serve.</summary>
    public static IngressError PreflightMethodNotAllowed(string method, string allowed) =>
        new(StatusCodes.Status405MethodNotAllowed, "method_not_allowed",
            $"{method} is not served here; this route takes {allowed}", "Access-Control-Request-Method");

    /// <summary>The client went away before its body arrived; nobody reads this answer, but the metric counts it (nginx's 499).</summary>
    public static readonly IngressError ClientClosed = new(499, "client_closed", "the client closed the request");

    public static IngressError SpoolFull(TimeSpan retryAfter) =>
        new(StatusCodes.Status503ServiceUnavailable, "spool_full", "the collector's spool is full; retry later", RetryAfter: retryAfter);

    public static IngressError JournalFailed(TimeSpan retryAfter) =>
        new(StatusCodes.Status503ServiceUnavailable, "journal_failed", "the events could not be stored; retry later", RetryAfter: retryAfter);

    public static IngressError SpoolTimedOut(TimeSpan retryAfter) =>
        new(StatusCodes.Status503ServiceUnavailable, "timeout", "the spool did not answer in time; retry later", RetryAfter: retryAfter);

    public static IngressError Rejected(LookupRejection rejection) =>
        new(rejection.StatusCode, CauseOf(rejection.StatusCode), rejection.Error, RetryAfter: rejection.RetryAfter);

    public Task ExecuteAsync(HttpContext httpContext)
    {
        if (RetryAfter is { } retryAfter)
        {
            // Retry-After takes whole seconds; rounding up never invites a producer back early.
            var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        httpContext.Response.StatusCode = StatusCode;
        return httpContext.Response.WriteAsJsonAsync(new ErrorBody(Error, Field), IngressJsonContext.Readable.ErrorBody);
    }

    private static string CauseOf(int statusCode) => statusCode switch
    {
        StatusCodes.Status429TooManyRequests => "rate_limited",
        StatusCodes.Status401Unauthorized => "unauthorized",
        StatusCodes.Status403Forbidden => "forbidden",
        _ => "rejected",
    };
}

/// <summary>The JSON body of every error answer.</summary>
public sealed record ErrorBody(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("field"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field);

/// <summary>Source-generated serializers for the API's answers: no reflection on the hot path.</summary>
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class IngressJsonContext : JsonSerializerContext
{
    /// <summary>With the readable encoder of every JSON answer (<see cref="JsonStatusAnswers.Encoder"/>): <c>'</c>, not <c>\u0027</c>.</summary>
    public static readonly IngressJsonContext Readable = new(new JsonSerializerOptions { Encoder = JsonStatusAnswers.Encoder });
}
