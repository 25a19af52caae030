using System.Buffers;

namespace AkkaCollector.Ingress;

/// <summary>
/// The 200 of the tracking API, <c>{"success":true}</c>: the events are in the journal. Its bytes are made once and
/// written with their length, and Kestrel sends them with the headers when the request completes. As a serialized JSON
/// result it had no length and went out chunked, and every request ran the serializer with a JSON writer of its own
/// (Kestrel already sent the chunk and its terminator in one write).
/// </summary>
public sealed class IngressSuccess : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public static readonly IngressSuccess Stored = new();

    private const string JsonContentType = "application/json; charset=utf-8";
    private static readonly byte[] Body = "{\"success\":true}"u8.ToArray();

    private IngressSuccess()
    {
    }

    int? IStatusCodeHttpResult.StatusCode => StatusCodes.Status200OK;

    string IContentTypeHttpResult.ContentType => JsonContentType;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        response.ContentLength = Body.Length;
        // Copied into the response's buffer; Kestrel flushes it with the headers once the request completes.
        response.BodyWriter.Write(Body);
        return Task.CompletedTask;
    }
}
