using System.Buffers.Binary;
using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace AkkaCollector.Spooling;

/// <summary>
/// What one journal write holds: the events of every request that arrived while the previous write was in
/// flight (group commit). One journal row per batch, never one per event.
/// </summary>
public sealed record SpoolBatch(IReadOnlyList<SpooledEvent> Events)
{
    /// <summary>Payload bytes of the batch: what the spool bound counts.</summary>
    public long PayloadBytes { get; } = Events.Sum(e => (long)e.Payload.Length);
}

/// <summary>
/// A compact, explicit binary format for <see cref="SpoolBatch"/> (no reflection on the hot path, stable across
/// releases). Layout: version byte, event count, then per event: flags byte, messageId, writeKey, partitionKey,
/// type (each a length-prefixed UTF-8 string), payload (length-prefixed bytes). Lengths are little-endian int32.
/// </summary>
public sealed class SpoolBatchSerializer(ExtendedActorSystem system) : Serializer(system)
{
    /// <summary>Akka serializer id; ids below 100 are Akka's own.</summary>
    public const int Id = 4711;

    private const byte FormatVersion = 1;
    private const byte UnverifiedFlag = 1;

    public override int Identifier => Id;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj)
    {
        if (obj is not SpoolBatch batch)
            throw new ArgumentException($"{nameof(SpoolBatchSerializer)} cannot serialize {obj.GetType()}", nameof(obj));

        var size = 1 + 4;
        foreach (var e in batch.Events)
            size += 1 + StringSize(e.MessageId) + StringSize(e.WriteKey) + StringSize(e.PartitionKey) + StringSize(e.Type) + 4 + e.Payload.Length;

        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = FormatVersion;
        var offset = 1;
        WriteInt(span, ref offset, batch.Events.Count);
        foreach (var e in batch.Events)
        {
            span[offset++] = e.Unverified ? UnverifiedFlag : (byte)0;
            WriteString(span, ref offset, e.MessageId);
            WriteString(span, ref offset, e.WriteKey);
            WriteString(span, ref offset, e.PartitionKey);
            WriteString(span, ref offset, e.Type);
            WriteInt(span, ref offset, e.Payload.Length);
            e.Payload.CopyTo(span[offset..]);
            offset += e.Payload.Length;
        }
        return buffer;
    }

    public override object FromBinary(byte[] bytes, Type type)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.Length < 5 || span[0] != FormatVersion)
            throw new System.Runtime.Serialization.SerializationException($"Unknown spool batch format {(span.Length > 0 ? span[0] : -1)}");

        var offset = 1;
        var count = ReadInt(span, ref offset);
        var events = new SpooledEvent[count];
        for (var i = 0; i < count; i++)
        {
            var flags = span[offset++];
            var messageId = ReadString(span, ref offset);
            var writeKey = ReadString(span, ref offset);
            var partitionKey = ReadString(span, ref offset);
            var eventType = ReadString(span, ref offset);
            var payloadLength = ReadInt(span, ref offset);
            var payload = span.Slice(offset, payloadLength).ToArray();
            offset += payloadLength;
            events[i] = new SpooledEvent(messageId, writeKey, partitionKey, eventType, payload, (flags & UnverifiedFlag) != 0);
        }
        return new SpoolBatch(events);
    }

    private static int StringSize(string s) => 4 + Encoding.UTF8.GetByteCount(s);

    private static void WriteInt(Span<byte> span, ref int offset, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], value);
        offset += 4;
    }

    private static int ReadInt(ReadOnlySpan<byte> span, ref int offset)
    {
        var value = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
        offset += 4;
        return value;
    }

    private static void WriteString(Span<byte> span, ref int offset, string value)
    {
        var length = Encoding.UTF8.GetBytes(value, span[(offset + 4)..]);
        WriteInt(span, ref offset, length);
        offset += length;
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int offset)
    {
        var length = ReadInt(span, ref offset);
        var value = Encoding.UTF8.GetString(span.Slice(offset, length));
        offset += length;
        return value;
    }
}
