using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using AkkaCollector.Publishing;

namespace AkkaCollector.Spooling;

/// <summary>
/// A spooler's memory of the messageIds it has taken (invariant 7 of <see cref="SpoolerActor"/>): the newest
/// <c>capacity</c> ids it has stored, plus the ids of events waiting for or in a journal write. An SDK that never saw
/// its 200 sends the same messageIds again; an event whose id (per write key) is stored is dropped, one whose id is
/// still being written makes its request wait for that write. A plain class: the actor asks, this decides.
/// </summary>
/// <remarks>
/// An id is held as a 128-bit XxHash128 of the write key and the messageId, keyed by a seed drawn once per process,
/// not as the strings: 26 bytes per stored id outside the managed heap (<see cref="StoredIds"/>), against 168 for the
/// strings, and nothing for the garbage collector to trace or promote: the strings lived just long enough to reach
/// its oldest generation (the micro-benchmarks in docs/benchmark.md). Two different events share a hash with
/// probability about n² / 2¹²⁹: with a full window of 10 million ids, under 10⁻²⁴ per event. The seed is secret to the
/// process, so a producer cannot choose ids that collide with another app's.
/// </remarks>
/// <param name="capacity">Stored ids remembered (Ingress:DedupWindow); the oldest is forgotten first. 0 remembers nothing.</param>
public sealed class DedupWindow(int capacity)
{
    /// <summary>Nothing is kept across restarts, so the seed need only be the same within one process.</summary>
    private static readonly long Seed = BinaryPrimitives.ReadInt64LittleEndian(RandomNumberGenerator.GetBytes(sizeof(long)));

    /// <summary>Write key and messageId of up to 126 characters together are hashed from the stack; longer ones from the heap.</summary>
    private const int StackBytes = 256;

    /// <summary>Allocated on the first stored id, a replayed one included: a spooler whose journal was empty and that has stored nothing holds none.</summary>
    private StoredIds? _stored;
    private readonly HashSet<EventId> _beingWritten = [];
    /// <summary>A request's ids, computed once for both passes of <see cref="Admit"/>.</summary>
    private EventId[] _requestIds = [];

    /// <summary>Ids remembered: stored ones plus those waiting for or in a write.</summary>
    public int Count => (_stored?.Count ?? 0) + _beingWritten.Count;

    /// <summary>
    /// Admits a request's events: null when one of them is still waiting for or in a write (the request must wait
    /// for that write's outcome), else the events to write, without those stored already or repeated in the request;
    /// those are marked as being written.
    /// </summary>
    public IReadOnlyList<SpooledEvent>? Admit(IReadOnlyList<SpooledEvent> events, out int duplicates)
    {
        duplicates = 0;
        if (capacity == 0)
            return events;
        if (_requestIds.Length < events.Count)
            _requestIds = new EventId[Math.Max(events.Count, 2 * _requestIds.Length)];
        for (var i = 0; i < events.Count; i++)
        {
            _requestIds[i] = IdOf(events[i]);
            if (_beingWritten.Contains(_requestIds[i]))
                return null;
        }

        List<SpooledEvent>? fresh = null;
        for (var i = 0; i < events.Count; i++)
        {
            // Marked "being written"; a second copy within the request finds it there.
            if (_stored?.Contains(_requestIds[i].Hash) != true && _beingWritten.Add(_requestIds[i]))
            {
                fresh?.Add(events[i]);
                continue;
            }
            // The first duplicate: copy what came before it (most requests have none and are passed on as they are).
            fresh ??= events.Take(i).ToList();
            duplicates++;
        }
        return fresh ?? events;
    }

    /// <summary>The write holding these events completed: their ids are stored, and the oldest beyond capacity are forgotten.</summary>
    public void Stored(IReadOnlyList<SpooledEvent> events)
    {
        if (capacity == 0)
            return;
        _stored ??= new StoredIds(capacity);
        foreach (var e in events)
        {
            var id = IdOf(e);
            _beingWritten.Remove(id);
            // A journal written before the window existed may hold an id twice: remember it once.
            if (!_stored.Contains(id.Hash))
                _stored.Add(id.Hash);
        }
    }

    /// <summary>Whether the event with this identity is stored (written, not only being written) and still remembered.</summary>
    public bool HasStored(RecordId id) => _stored?.Contains(IdOf(id.WriteKey, id.MessageId).Hash) == true;

    /// <summary>The write holding these events was refused: nothing of them is stored, a retry must be written again.</summary>
    public void Abandoned(IReadOnlyList<SpooledEvent> events)
    {
        if (capacity == 0)
            return;
        foreach (var e in events)
            _beingWritten.Remove(IdOf(e));
    }

    /// <summary>A messageId is unique per app: the same id from two write keys is two events (the key's length keeps the two apart).</summary>
    private static EventId IdOf(SpooledEvent e) => IdOf(e.WriteKey, e.MessageId);

    private static EventId IdOf(string writeKey, string messageId)
    {
        // One call over one buffer: cheaper than three appends to an incremental hasher (docs/benchmark.md).
        var byteCount = sizeof(int) + sizeof(char) * (writeKey.Length + messageId.Length);
        Span<byte> bytes = byteCount <= StackBytes ? stackalloc byte[StackBytes] : new byte[byteCount];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, writeKey.Length);
        MemoryMarshal.AsBytes(writeKey.AsSpan()).CopyTo(bytes[sizeof(int)..]);
        MemoryMarshal.AsBytes(messageId.AsSpan()).CopyTo(bytes[(sizeof(int) + sizeof(char) * writeKey.Length)..]);
        return new EventId(XxHash128.HashToUInt128(bytes[..byteCount], Seed));
    }

    /// <summary>A hash already spread evenly: its low bits are as good a hash code as any.</summary>
    private readonly record struct EventId(UInt128 Hash)
    {
        public override int GetHashCode() => (int)(ulong)Hash;
    }
}
