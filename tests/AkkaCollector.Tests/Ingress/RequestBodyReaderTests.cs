using System.Text;
using AkkaCollector.Ingress;
using Microsoft.Extensions.Primitives;

namespace AkkaCollector.Tests.Ingress;

public sealed class RequestBodyReaderTests
{
    private const int Limit = 1000;

    [Fact]
    public async Task Should_read_a_body_of_exactly_the_limit()
    {
        var read = await ReadAsync(new byte[Limit], contentLength: null);

        Assert.True(read.TryGetValue(out var body, out _));
        using (body)
            Assert.Equal(Limit, body.Length);
    }

    [Fact]
    public async Task Should_answer_413_when_a_chunked_body_exceeds_the_limit_by_one_byte()
    {
        var read = await ReadAsync(new TricklingStream(new byte[Limit + 1], 7), StringValues.Empty, contentLength: null);

        AssertError(read, 413);
    }

    [Fact]
    public async Task Should_not_trust_a_content_length_smaller_than_the_body()
    {
        var read = await ReadAsync(new byte[Limit * 3], contentLength: 10);

        AssertError(read, 413);
    }

    [Fact]
    public async Task Should_refuse_a_declared_length_over_the_limit_without_reading_the_body()
    {
        var read = await ReadAsync(new UnreadableStream(), StringValues.Empty, contentLength: Limit + 1);

        AssertError(read, 413);
    }

    [Fact]
    public async Task Should_inflate_a_gzip_body()
    {
        var json = Bodies.Track();

        var read = await ReadAsync(new MemoryStream(Bodies.Gzip(json)), "gzip", contentLength: null);

        Assert.True(read.TryGetValue(out var body, out _));
        using (body)
            Assert.Equal(json, Encoding.UTF8.GetString(body.Memory.Span));
    }

    [Fact]
    public async Task Should_cut_a_gzip_bomb_off_at_the_limit_without_inflating_it_into_memory()
    {
        var bomb = Bodies.GzipBomb;
        const int limit = 512_000;
        // A MemoryStream completes every read synchronously, so this thread's allocation count covers the whole read.
        var before = GC.GetAllocatedBytesForCurrentThread();

        var read = await RequestBodyReader.ReadAsync(new MemoryStream(bomb), "gzip", bomb.Length, limit, CancellationToken.None);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        AssertError(read, 413);
        Assert.True(allocated < 4 * 1024 * 1024, $"allocated {allocated} bytes to refuse a 50 MB bomb");
    }

    [Fact]
    public async Task Should_answer_400_when_a_gzip_body_is_not_gzip()
    {
        var read = await ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(Bodies.Track())), "gzip", contentLength: null);

        AssertError(read, 400);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("deflate")]
    [InlineData("gzip, gzip")]
    public async Task Should_answer_415_for_an_encoding_other_than_gzip_or_identity(string encoding)
    {
        var read = await ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(Bodies.Track())), encoding, contentLength: null);

        AssertError(read, 415);
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("IDENTITY")]
    public async Task Should_read_an_identity_body_as_it_is(string encoding)
    {
        var read = await ReadAsync(new MemoryStream(new byte[10]), encoding, contentLength: 10);

        Assert.True(read.TryGetValue(out var body, out _));
        using (body)
            Assert.Equal(10, body.Length);
    }

    [Fact]
    public async Task Should_count_a_body_cut_off_by_the_client_as_closed()
    {
        var read = await ReadAsync(new ResettingStream(), StringValues.Empty, contentLength: null);

        AssertError(read, 499);
    }

    private static ValueTask<OrError<RequestBody>> ReadAsync(byte[] body, long? contentLength) =>
        ReadAsync(new MemoryStream(body), StringValues.Empty, contentLength);

    private static ValueTask<OrError<RequestBody>> ReadAsync(Stream body, StringValues encoding, long? contentLength) =>
        RequestBodyReader.ReadAsync(body, encoding, contentLength, Limit, CancellationToken.None);

    private static void AssertError(OrError<RequestBody> read, int status)
    {
        Assert.False(read.TryGetValue(out _, out var error));
        Assert.Equal(status, error.StatusCode);
    }

    /// <summary>A body that arrives a few bytes at a time, as a slow chunked upload does.</summary>
    private sealed class TricklingStream(byte[] content, int bytesPerRead) : MemoryStream(content)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, bytesPerRead)], cancellationToken);
    }

    private sealed class UnreadableStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("the body must not be read");
    }

    private sealed class ResettingStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new IOException("connection reset by peer");
    }
}
