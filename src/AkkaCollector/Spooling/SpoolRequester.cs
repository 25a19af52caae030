using Akka.Actor;

namespace AkkaCollector.Spooling;

/// <summary>Where one <see cref="Enqueue"/>'s answer goes.</summary>
public readonly record struct SpoolRequester(IActorRef Sender, SpoolAnswer? Completion)
{
    public void Answer(SpoolReply reply) => AnswerAll([this], reply);

    /// <summary>
    /// Answers every requester: actors are told at once, in order; the HTTP side's completions are released by one pool
    /// work item. A completion runs its request's continuation (writing the response) on the thread that completes
    /// it, so one thread writes a whole group commit's responses in turn instead of one thread being woken per
    /// request, and the spooler's own thread writes none (docs/benchmark.md, second round).
    /// </summary>
    public static void AnswerAll(List<SpoolRequester> requesters, SpoolReply reply)
    {
        var completions = false;
        foreach (var requester in requesters)
        {
            if (requester.Completion is null)
                requester.Sender.Tell(reply);
            else
                completions = true;
        }
        if (completions)
            ThreadPool.UnsafeQueueUserWorkItem(static answer =>
            {
                foreach (var requester in answer.Requesters)
                    requester.Completion?.Answer(answer.Reply.Outcome);
            }, (Requesters: requesters, Reply: reply), preferLocal: false);
    }
}
