using System.Runtime.InteropServices;

namespace AkkaCollector.Spooling;

/// <summary>
/// A spooler's memory of the messageIds it has taken (invariant 7 of <see cref="SpoolerActor"/>): the newest
/// <c>capacity</c> ids it has stored, plus the ids of events waiting for or in a journal write. An SDK that never saw
/// its 200 sends the same messageIds again; an event whose id (per write key) is stored is dropped, one whose id is
/// still being written makes its request wait for that write. A plain class: the actor asks, this decides.
/// </summary>
/// <param name="capacity">Stored ids remembered (Ingress:DedupWindow); the oldest is forgotten first. 0 remembers nothing.</param>
public sealed class DedupWindow(int capacity)
{
    // One dictionary for both states, so an event costs one lookup on admission and one on storing.
    private readonly Dictionary<DedupKey, bool> _stored = new();
    private readonly Queue<DedupKey> _order = new();

    /// <summary>Ids remembered: stored ones plus those waiting for or in a write.</summary>
    public int Count => _stored.Count;

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
        foreach (var e in events)
        {
            if (_stored.TryGetValue(new DedupKey(e.WriteKey, e.MessageId), out var stored) && !stored)
                return null;
        }

        List<SpooledEvent>? fresh = null;
        for (var i = 0; i < events.Count; i++)
        {
            // Added as "being written"; a second copy within the request finds it there.
            CollectionsMarshal.GetValueRefOrAddDefault(_stored, new DedupKey(events[i].WriteKey, events[i].MessageId), out var known);
            if (!known)
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
        foreach (var e in events)
        {
            var key = new DedupKey(e.WriteKey, e.MessageId);
            ref var stored = ref CollectionsMarshal.GetValueRefOrAddDefault(_stored, key, out _);
            // A journal written before the window existed may hold an id twice: remember it once.
            if (stored)
                continue;
            stored = true;
            _order.Enqueue(key);
        }
        while (_order.Count > capacity)
            _stored.Remove(_order.Dequeue());
    }

    /// <summary>The write holding these events was refused: nothing of them is stored, a retry must be written again.</summary>
    public void Abandoned(IReadOnlyList<SpooledEvent> events)
    {
        if (capacity == 0)
            return;
        foreach (var e in events)
            _stored.Remove(new DedupKey(e.WriteKey, e.MessageId));
    }

    /// <summary>A messageId is unique per app: the same id from two write keys is two events.</summary>
    private readonly record struct DedupKey(string WriteKey, string MessageId);
}
