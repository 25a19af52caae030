using System.Buffers;

namespace AkkaCollector.Ingress;

/// <summary>
/// The 200 of the tracking API, <c>{"success":true}</c>: the events are in the journal. Its bytes are made once and
/// written with their length, so Kestrel sends the whole answer in one write at the end of the request. As a serialized
/// JSON result it had no length, went out chunked, and took a JSON writer, a flush of its own and a second write for the
/// closing chunk on every request.
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
