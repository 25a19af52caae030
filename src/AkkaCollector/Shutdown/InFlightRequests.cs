using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCollector.Shutdown;

/// <summary>
/// Counts HTTP requests between entering the pipeline and leaving it, so shutdown's service-requests-done phase
/// can wait until every accepted request has been persisted and answered, even one whose connection Kestrel
/// has already given up on.
/// </summary>
public sealed class InFlightRequests
{
    private int _count;
    private TaskCompletionSource? _idle;

    /// <summary>Requests currently inside the pipeline.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>A request entered the pipeline.</summary>
    public void Enter() => Interlocked.Increment(ref _count);

    /// <summary>A request left the pipeline (answered, failed or aborted).</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) == 0)
            Volatile.Read(ref _idle)?.TrySetResult();
    }

    /// <summary>Completes when no request is in flight; cancelled by <paramref name="cancellationToken"/>.</summary>
    public async Task WaitUntilIdleAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Publish the signal before reading the count: an Exit that reaches zero after this read completes it.
            var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _idle, idle);
            if (Count == 0)
                return;
            await idle.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Registers the <see cref="InFlightRequests"/> counter as the outermost middleware.</summary>
public static class InFlightRequestsMiddleware
{
    /// <summary>Call first in the pipeline, so the count covers everything a request does.</summary>
    public static IApplicationBuilder UseInFlightRequests(this IApplicationBuilder app)
    {
        var inFlight = app.ApplicationServices.GetRequiredService<InFlightRequests>();
        return app.Use(async (context, next) =>
        {
            inFlight.Enter();
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                inFlight.Exit();
            }
        });
    }
}
