using System.Numerics;
using System.Runtime.InteropServices;

namespace AkkaCollector.Spooling;

/// <summary>
/// The newest <c>capacity</c> stored ids of a <see cref="DedupWindow"/>: a ring of the ids, oldest first, and an
/// open-addressing index into it (linear probing; a forgotten id's slot is closed by shifting its followers back, so
/// no tombstones build up). 26 bytes per id at the default window, in one block of native memory.
/// </summary>
/// <remarks>
/// Why not a <see cref="HashSet{T}"/> and an array, as before: they cost 52 bytes per id on the managed heap, and the
/// bench's peak RSS with 100 000 events spooled rose by 27 MB with two default windows (305 against 278 MB with the
/// window off), more than twice the arrays themselves. In native memory, outside the garbage collector's accounting,
/// the same windows left it within the spread of the window-off runs (docs/benchmark.md); calloc's pages are resident
/// only once written. Freed by the finalizer: a window lives as long as its spooler, and nothing else holds the block.
/// </remarks>
internal sealed unsafe class StoredIds
{
    private readonly int _capacity;
    /// <summary>The index has a power-of-two number of slots, at least twice the capacity: probes stay short.</summary>
    private readonly int _mask;
    private readonly UInt128* _ring;
    /// <summary>A slot holds a ring position plus one; 0 is an empty slot.</summary>
    private readonly int* _index;
    private int _count;
    /// <summary>The ring position of the oldest id once the ring is full: the next to forget.</summary>
    private int _oldest;

    public StoredIds(int capacity)
    {
        _capacity = capacity;
        var slots = (int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2);
        _mask = slots - 1;
        _ring = (UInt128*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(UInt128));
        _index = (int*)NativeMemory.AllocZeroed((nuint)slots, sizeof(int));
    }

    ~StoredIds()
    {
        NativeMemory.Free(_ring);
        NativeMemory.Free(_index);
    }

    public int Count => _count;

    public bool Contains(UInt128 id) => SlotOf(id) >= 0;

    /// <summary>Remembers an id it does not hold; when full, the oldest id is forgotten to make room.</summary>
    public void Add(UInt128 id)
    {
        int position;
        if (_count < _capacity)
            position = _count++;
        else
        {
            position = _oldest;
            Forget(SlotOf(_ring[position]));
            _oldest = (_oldest + 1) % _capacity;
        }
        _ring[position] = id;
        var slot = Home(id);
        while (_index[slot] != 0)
            slot = (slot + 1) & _mask;
        _index[slot] = position + 1;
    }

    private int SlotOf(UInt128 id)
    {
        for (var slot = Home(id); _index[slot] != 0; slot = (slot + 1) & _mask)
            if (_ring[_index[slot] - 1] == id)
                return slot;
        return -1;
    }

    /// <summary>
    /// Empties a slot, then moves back every follower in its run that may sit there (its home is not between the hole
    /// and itself, cyclically), so that a probe from any home still finds its id before an empty slot.
    /// </summary>
    private void Forget(int hole)
    {
        for (var next = (hole + 1) & _mask; _index[next] != 0; next = (next + 1) & _mask)
        {
            var home = Home(_ring[_index[next] - 1]);
            if (((next - home) & _mask) < ((next - hole) & _mask))
                continue;
            _index[hole] = _index[next];
            hole = next;
        }
        _index[hole] = 0;
    }

    /// <summary>The ids are keyed hashes already: their low bits spread as well as any.</summary>
    private int Home(UInt128 id) => (int)(ulong)id & _mask;
}
