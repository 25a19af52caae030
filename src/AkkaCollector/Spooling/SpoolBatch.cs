using System.Buffers.Binary;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

/// <summary>
/// What one journal write holds: the events of every request that arrived while the previous write was in
/// flight (group commit), and how far delivery had got when it was written (invariant 8 of <see cref="SpoolerActor"/>).
/// One journal row per batch, never one per event.
/// </summary>
public sealed record SpoolBatch(IReadOnlyList<SpooledEvent> Events, DeliveryMark? Mark = null)
{
    /// <summary>Payload bytes of the batch: what the spool bound counts.</summary>
    public long PayloadBytes { get; } = Events.Sum(e => (long)e.Payload.Length);
}

/// <summary>
/// How far delivery had got when a batch was written: every batch at or below <paramref name="DeliveredThrough"/> is
/// in Kafka, and every record of a later batch that reached Kafka is at or beyond <paramref name="KafkaFrom"/>.
/// </summary>
public sealed record DeliveryMark(long DeliveredThrough, KafkaPositions KafkaFrom);

/// <summary>
/// A compact, explicit binary format for <see cref="SpoolBatch"/> (no reflection on the hot path, stable across
/// releases). Layout: version byte, event count, then per event: flags byte, messageId, writeKey, partitionKey,
/// type (each a length-prefixed UTF-8 string), payload (length-prefixed bytes); then (version 2) a mark flag byte and,
/// when set, the delivered cursor (int64), a partition count and per partition its number (int32) and offset (int64).
/// Lengths are little-endian int32. Version 1 (no mark) is still read.
/// </summary>
public sealed class SpoolBatchSerializer(ExtendedActorSystem system) : Serializer(system)
{
    /// <summary>Akka serializer id; ids below 100 are Akka's own.</summary>
    public const int Id = 4711;

    private const byte FormatVersion = 2;
    private const byte FormatWithoutMark = 1;
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
        size += 1 + (batch.Mark is { } mark ? 8 + 4 + mark.KafkaFrom.Next.Count * 12 : 0);

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
        span[offset++] = batch.Mark is null ? (byte)0 : (byte)1;
        if (batch.Mark is { } written)
        {
            WriteLong(span, ref offset, written.DeliveredThrough);
            WriteInt(span, ref offset, written.KafkaFrom.Next.Count);
            foreach (var (partition, next) in written.KafkaFrom.Next)
            {
                WriteInt(span, ref offset, partition);
                WriteLong(span, ref offset, next);
            }
        }
        return buffer;
    }

    public override object FromBinary(byte[] bytes, Type type)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.Length < 5 || span[0] is not (FormatVersion or FormatWithoutMark))
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
        if (span[0] == FormatWithoutMark || span[offset++] == 0)
            return new SpoolBatch(events);

        var deliveredThrough = ReadLong(span, ref offset);
        var partitions = ReadInt(span, ref offset);
        var kafkaFrom = new KeyValuePair<int, long>[partitions];
        for (var i = 0; i < partitions; i++)
            kafkaFrom[i] = new KeyValuePair<int, long>(ReadInt(span, ref offset), ReadLong(span, ref offset));
        return new SpoolBatch(events, new DeliveryMark(deliveredThrough, KafkaPositions.Of(kafkaFrom)));
    }

    private static int StringSize(string s) => 4 + Encoding.UTF8.GetByteCount(s);

    private static void WriteInt(Span<byte> span, ref int offset, int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(span, ref offset, 4), value);

    private static int ReadInt(ReadOnlySpan<byte> span, ref int offset) => BinaryPrimitives.ReadInt32LittleEndian(Take(span, ref offset, 4));

    private static void WriteLong(Span<byte> span, ref int offset, long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(span, ref offset, 8), value);

    private static long ReadLong(ReadOnlySpan<byte> span, ref int offset) => BinaryPrimitives.ReadInt64LittleEndian(Take(span, ref offset, 8));

    /// <summary>The next <paramref name="size"/> bytes, moving <paramref name="offset"/> past them.</summary>
    private static Span<byte> Take(Span<byte> span, ref int offset, int size)
    {
        offset += size;
        return span.Slice(offset - size, size);
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> span, ref int offset, int size)
    {
        offset += size;
        return span.Slice(offset - size, size);
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
