using System.Buffers;
using System.IO.Compression;
using Microsoft.Extensions.Primitives;

namespace AkkaCollector.Ingress;

/// <summary>A request body read into a pooled buffer; disposing hands the buffer back.</summary>
public sealed class RequestBody : IDisposable
{
    private byte[]? _buffer;

    internal RequestBody(byte[] buffer, int length) => (_buffer, Length) = (buffer, length);

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory =>
        _buffer is { } buffer ? buffer.AsMemory(0, Length) : throw new ObjectDisposedException(nameof(RequestBody));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
            ArrayPool<byte>.Shared.Return(buffer);
    }
}

/// <summary>
/// Reads a request body, inflating gzip, into pooled memory and never past the byte limit: the count of bytes actually
/// read is what is checked (Content-Length can lie, chunked bodies have none, and gzip hides the real size), so a gzip
/// bomb costs at most the limit in memory before it is answered 413. Content-Type is not looked at: SDKs send JSON as
/// text/plain (sendBeacon avoids a CORS preflight that way) or with no type, so a body is accepted if it parses as JSON.
/// </summary>
public static class RequestBodyReader
{
    private const int ChunkBytes = 16 * 1024;

    public static ValueTask<OrError<RequestBody>> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken) =>
        ReadAsync(request.Body, request.Headers.ContentEncoding, request.ContentLength, limit, cancellationToken);

    public static async ValueTask<OrError<RequestBody>> ReadAsync(
        Stream body, StringValues contentEncoding, long? contentLength, int limit, CancellationToken cancellationToken)
    {
        if (!TryReadEncoding(contentEncoding, out var gzip))
            return IngressError.UnsupportedEncoding(contentEncoding.ToString());
        // A declared length over the limit can be refused before reading; a declared length under it proves nothing.
        if (!gzip && contentLength > limit)
            return TooLarge(limit, gzip);

        await using var inflated = gzip ? new GZipStream(body, CompressionMode.Decompress, leaveOpen: true) : null;
        var source = inflated ?? body;
        var firstSize = !gzip && contentLength is > 0 ? (int)contentLength.Value + 1 : ChunkBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(firstSize, limit + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                    buffer = Grow(buffer, length, limit + 1);
                var room = Math.Min(buffer.Length - length, Math.Min(ChunkBytes, limit + 1 - length));
                var read = await source.ReadAsync(buffer.AsMemory(length, room), cancellationToken);
                if (read == 0)
                    break;
                length += read;
                if (length > limit)
                    return Reject(buffer, TooLarge(limit, gzip));
            }
            return new RequestBody(buffer, length);
        }
        catch (InvalidDataException)
        {
            return Reject(buffer, IngressError.BadRequest("the body is not valid gzip"));
        }
        catch (BadHttpRequestException e)
        {
            // The server's own limits and framing checks (e.g. a malformed chunked body) speak for themselves.
            return Reject(buffer, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? IngressError.TooLarge("the request body exceeds the server's limit")
                : IngressError.BadRequest(e.Message));
        }
        catch (Exception e) when (e is IOException || (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return Reject(buffer, IngressError.ClientClosed);
        }
    }

    private static bool TryReadEncoding(StringValues contentEncoding, out bool gzip)
    {
        gzip = false;
        foreach (var value in contentEncoding)
        {
            foreach (var coding in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
                    continue;
                // One layer of gzip is what SDKs send; gzip inside gzip is not worth a second inflater.
                if (gzip || !(coding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || coding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase)))
                    return false;
                gzip = true;
            }
        }
        return true;
    }

    private static byte[] Grow(byte[] buffer, int length, int cap)
    {
        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, cap));
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    private static IngressError Reject(byte[] buffer, IngressError error)
    {
        ArrayPool<byte>.Shared.Return(buffer);
        return error;
    }

    private static IngressError TooLarge(int limit, bool gzip) =>
        IngressError.TooLarge(gzip
            ? $"the request body exceeds {limit} bytes once inflated"
            : $"the request body exceeds {limit} bytes");
}
