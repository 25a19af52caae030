using AkkaCollector.Publishing;
using AkkaCollector.Spooling;
using static AkkaCollector.Tests.Spooling.SpoolEvents;

namespace AkkaCollector.Tests.Spooling;

/// <summary>The spooler's memory of the messageIds it took (invariant 7 of SpoolerActor), as a plain class.</summary>
public sealed class DedupWindowTests
{
    private static IReadOnlyList<SpooledEvent> Events(params string[] ids) => ids.Select(id => Event(id)).ToList();

    private static IEnumerable<string> Ids(IReadOnlyList<SpooledEvent>? events) => events!.Select(e => e.MessageId);

    [Fact]
    public void Should_drop_the_copies_of_stored_events_and_pass_the_new_ones()
    {
        var window = new DedupWindow(100);
        window.Stored(window.Admit(Events("a", "b"), out _)!);

        var admitted = window.Admit(Events("a", "c", "b"), out var duplicates);

        Assert.Equal(["c"], Ids(admitted));
        Assert.Equal(2, duplicates);
    }

    [Fact]
    public void Should_say_an_event_is_stored_only_once_its_write_completed_and_only_for_its_own_app()
    {
        var window = new DedupWindow(100);
        var written = window.Admit(Events("a", "b"), out _)!;
        Assert.False(window.HasStored(new RecordId("write-key", "a")));

        window.Stored(written);

        Assert.True(window.HasStored(new RecordId("write-key", "a")));
        Assert.False(window.HasStored(new RecordId("other-app", "a")));
        Assert.False(window.HasStored(new RecordId("write-key", "c")));
    }

    [Fact]
    public void Should_make_a_request_wait_while_one_of_its_events_is_being_written()
    {
        var window = new DedupWindow(100);
        var first = window.Admit(Events("a", "b"), out _)!;

        Assert.Null(window.Admit(Events("c", "b"), out _));

        window.Stored(first);
        Assert.Equal(["c"], Ids(window.Admit(Events("c", "b"), out _)));
    }

    [Fact]
    public void Should_let_a_retry_be_written_when_the_first_copys_write_was_refused()
    {
        var window = new DedupWindow(100);
        window.Abandoned(window.Admit(Events("a"), out _)!);

        Assert.Equal(["a"], Ids(window.Admit(Events("a"), out var duplicates)));
        Assert.Equal(0, duplicates);
    }

    [Fact]
    public void Should_drop_a_copy_repeated_within_one_request()
    {
        var window = new DedupWindow(100);

        Assert.Equal(["a", "b"], Ids(window.Admit(Events("a", "b", "a"), out var duplicates)));
        Assert.Equal(1, duplicates);
    }

    [Fact]
    public void Should_take_the_same_messageId_from_another_app_as_another_event()
    {
        var window = new DedupWindow(100);
        window.Stored(window.Admit(Events("a"), out _)!);

        var otherApp = window.Admit([Event("a") with { WriteKey = "other-app" }], out var duplicates);

        Assert.Single(otherApp!);
        Assert.Equal(0, duplicates);
    }

    [Fact]
    public void Should_forget_the_oldest_stored_ids_beyond_its_capacity()
    {
        var window = new DedupWindow(2);
        foreach (var id in new[] { "a", "b", "c" })
            window.Stored(window.Admit(Events(id), out _)!);

        Assert.Equal(2, window.Count);
        Assert.Equal(["a"], Ids(window.Admit(Events("a", "b", "c"), out var duplicates)));
        Assert.Equal(2, duplicates);
    }

    [Fact]
    public void Should_keep_the_newest_ids_while_the_window_turns_over_many_times()
    {
        var window = new DedupWindow(3);
        for (var i = 0; i < 20; i += 2)
            window.Stored(window.Admit(Events($"{i}", $"{i + 1}"), out _)!);

        var admitted = window.Admit(Events("16", "17", "18", "19"), out var duplicates);

        Assert.Equal(["16"], Ids(admitted));
        Assert.Equal(3, duplicates);
        Assert.Equal(3 + 1, window.Count);
    }

    [Fact]
    public void Should_not_mistake_a_write_key_and_messageId_for_another_pair_with_the_same_characters()
    {
        var window = new DedupWindow(100);
        window.Stored(window.Admit([Event("c") with { WriteKey = "ab" }], out _)!);

        var shifted = window.Admit([Event("bc") with { WriteKey = "a" }], out var duplicates);

        Assert.Single(shifted!);
        Assert.Equal(0, duplicates);
    }

    [Fact]
    public void Should_tell_long_messageIds_apart_by_their_last_character_and_drop_their_copies()
    {
        // Longer than the part hashed from the stack: the heap path must hash every character too.
        var stem = new string('x', 300);
        var window = new DedupWindow(100);
        window.Stored(window.Admit(Events(stem + "1"), out _)!);

        var admitted = window.Admit(Events(stem + "2", stem + "1"), out var duplicates);

        Assert.Equal([stem + "2"], Ids(admitted));
        Assert.Equal(1, duplicates);
    }

    [Fact]
    public void Should_remember_an_id_replayed_twice_from_an_old_journal_once()
    {
        var window = new DedupWindow(2);
        window.Stored(Events("a"));
        window.Stored(Events("a"));
        window.Stored(Events("b"));

        Assert.Empty(window.Admit(Events("a", "b"), out _)!);
    }

    [Fact]
    public void Should_remember_nothing_when_turned_off()
    {
        var window = new DedupWindow(0);
        window.Stored(window.Admit(Events("a"), out _)!);

        Assert.Equal(["a", "a"], Ids(window.Admit(Events("a", "a"), out _)));
        Assert.Equal(0, window.Count);
    }
}
