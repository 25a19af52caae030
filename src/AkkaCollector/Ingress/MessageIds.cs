using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AkkaCollector.Ingress;

/// <summary>
/// messageIds for events sent without one: time-ordered UUIDv7s (RFC 9562: 48 bits of Unix milliseconds, version,
/// 74 random bits, variant) as 32 lowercase hex digits, the form <c>Guid.CreateVersion7().ToString("N")</c> gives.
/// That asks the OS for its random bits once per id, a system call of ~0.56 µs of CPU here (docs/benchmark.md); these
/// draw them from the OS 4 000 bytes at a time per thread, 10 bytes per id.
/// </summary>
public static class MessageIds
{
    private const int RandomBytesPerId = 10;
    private const int IdsPerDraw = 400;

    [ThreadStatic]
    private static byte[]? _random;
    [ThreadStatic]
    private static int _next;

    /// <summary>A new UUIDv7 whose time is <paramref name="at"/> (the request's arrival: ids follow arrival order to the millisecond).</summary>
    public static string NewVersion7(DateTimeOffset at)
    {
        var random = _random ??= new byte[RandomBytesPerId * IdsPerDraw];
        if (_next == 0)
            RandomNumberGenerator.Fill(random);
        var bits = random.AsSpan(_next, RandomBytesPerId);
        _next = (_next + RandomBytesPerId) % random.Length;

        Span<byte> uuid = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(uuid, at.ToUnixTimeMilliseconds() << 16);
        uuid[6] = (byte)(0x70 | (bits[0] & 0x0F));
        uuid[7] = bits[1];
        uuid[8] = (byte)(0x80 | (bits[2] & 0x3F));
        bits[3..].CopyTo(uuid[9..]);
        return Convert.ToHexStringLower(uuid);
    }
}
