using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using K4os.Compression.LZ4;
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
/// Lengths are little-endian int32. Version 3 is a version 2 row compressed: the version byte, the length of the
/// version 2 row (int32), then that row as one LZ4 block. A row is written as version 3 unless LZ4 would not make it
/// shorter. Versions 1 (no mark) and 2 are still read.
/// </summary>
/// <remarks>
/// Why compressed: a group commit's row is every event of the write, and JSON events of one write repeat their names
/// and most of their values, so LZ4 makes the row a fraction of its size (docs/benchmark.md, twentieth round).
/// SQLite then writes, checkpoints and, at truncation, frees that many fewer pages, and a batch write's row stays
/// under the runtime's large-object threshold (85 000 bytes) instead of starting a gen-2 collection. A collector
/// older than version 3 cannot read such rows: roll back only with an empty spool (docs/deploy.md, "How collectors
/// scale out").
/// </remarks>
public sealed class SpoolBatchSerializer(ExtendedActorSystem system) : Serializer(system)
{
    /// <summary>Akka serializer id; ids below 100 are Akka's own.</summary>
    public const int Id = 4711;

    private const byte FormatCompressed = 3;
    private const byte FormatVersion = 2;
    private const byte FormatWithoutMark = 1;
    private const byte UnverifiedFlag = 1;
    private const int CompressedHeaderSize = 1 + 4;
    /// <summary>LZ4 cannot expand a block by more than this factor: a larger length read from a row is corruption.</summary>
    private const int MaxLz4Ratio = 255;

    /// <summary>
    /// The uncompressed rows and the compressor's output, reused. Not <see cref="ArrayPool{T}.Shared"/>: it keeps up to
    /// 32 buffers of each size per core and one per thread, and with rows of 30-130 KB it held 27 MB of them (a
    /// gcdump after a batch phase). Rows are made a few at a time (one journal writer per SQLite file), so a few
    /// buffers of each size do; a row above 1 MiB gets arrays of its own.
    /// </summary>
    private static readonly ArrayPool<byte> Buffers = ArrayPool<byte>.Create(maxArrayLength: 1 << 20, maxArraysPerBucket: 4);

    public override int Identifier => Id;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj)
    {
        if (obj is not SpoolBatch batch)
            throw new ArgumentException($"{nameof(SpoolBatchSerializer)} cannot serialize {obj.GetType()}", nameof(obj));

        var size = UncompressedSize(batch);
        var row = Buffers.Rent(size);
        try
        {
            WriteUncompressed(batch, row.AsSpan(0, size));
            return Compress(row.AsSpan(0, size));
        }
        finally
        {
            Buffers.Return(row);
        }
    }

    public override object FromBinary(byte[] bytes, Type type)
    {
        if (bytes.Length == 0 || bytes[0] != FormatCompressed)
            return ReadUncompressed(bytes);

        if (bytes.Length < CompressedHeaderSize)
            throw new SerializationException($"A compressed spool batch of {bytes.Length} bytes has no header");
        var offset = 1;
        var length = ReadInt(bytes, ref offset);
        var block = bytes.AsSpan(CompressedHeaderSize);
        if (length <= 0 || length > (long)block.Length * MaxLz4Ratio)
            throw new SerializationException($"A compressed spool batch claims {length} bytes from {block.Length}");
        var row = Buffers.Rent(length);
        try
        {
            if (LZ4Codec.Decode(block, row.AsSpan(0, length)) != length)
                throw new SerializationException($"A compressed spool batch did not decompress to its {length} bytes");
            return ReadUncompressed(row.AsSpan(0, length));
        }
        finally
        {
            Buffers.Return(row);
        }
    }

    /// <summary>The version 3 row of <paramref name="row"/>, or a copy of it when LZ4 does not make it shorter.</summary>
    private static byte[] Compress(ReadOnlySpan<byte> row)
    {
        var target = Buffers.Rent(CompressedHeaderSize + LZ4Codec.MaximumOutputSize(row.Length));
        try
        {
            var compressed = LZ4Codec.Encode(row, target.AsSpan(CompressedHeaderSize));
            if (compressed <= 0 || CompressedHeaderSize + compressed >= row.Length)
                return row.ToArray();
            target[0] = FormatCompressed;
            var offset = 1;
            WriteInt(target, ref offset, row.Length);
            return target.AsSpan(0, CompressedHeaderSize + compressed).ToArray();
        }
        finally
        {
            Buffers.Return(target);
        }
    }

    private static int UncompressedSize(SpoolBatch batch)
    {
        var size = 1 + 4;
        foreach (var e in batch.Events)
            size += 1 + StringSize(e.MessageId) + StringSize(e.WriteKey) + StringSize(e.PartitionKey) + StringSize(e.Type) + 4 + e.Payload.Length;
        return size + 1 + (batch.Mark is { } mark ? 8 + 4 + mark.KafkaFrom.Next.Count * 12 : 0);
    }

    private static void WriteUncompressed(SpoolBatch batch, Span<byte> span)
    {
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
    }

    private static SpoolBatch ReadUncompressed(ReadOnlySpan<byte> span)
    {
        if (span.Length < 5 || span[0] is not (FormatVersion or FormatWithoutMark))
            throw new SerializationException($"Unknown spool batch format {(span.Length > 0 ? span[0] : -1)}");

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
