namespace AkkaCollector.Rig.Metrics;

/// <summary>
/// Calls a poll once a second on a background task until disposed: the collectors' scraper and the load balancer's
/// watch both sample this way. A poll that overruns delays the next tick, never overlaps it.
/// </summary>
public sealed class EverySecond : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public EverySecond(Func<Task> poll) => _loop = Task.Run(() => LoopAsync(poll));

    /// <summary>Cancelled when disposing starts: polls pass it to their requests so that none holds the disposal up.</summary>
    public CancellationToken Stopping => _stop.Token;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync(Func<Task> poll)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                await poll();
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
