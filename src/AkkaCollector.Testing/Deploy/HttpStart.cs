using System.Diagnostics;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.Testing.Deploy;

/// <summary>Waiting for a freshly started server (haproxy, prometheus) to answer over HTTP.</summary>
internal static class HttpStart
{
    /// <summary>
    /// Asks <paramref name="answers"/> every 100 ms until it says yes; a refused or timed-out request counts as no.
    /// </summary>
    /// <exception cref="InvalidOperationException">No yes within <paramref name="timeout"/>, or the process exited: <paramref name="failure"/> and its output.</exception>
    public static async Task WaitUntilAnswersAsync(this ChildProcess process, TimeSpan timeout, Func<HttpClient, Task<bool>> answers, string failure, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !process.HasExited)
        {
            try
            {
                if (await answers(http))
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }
            await Task.Delay(100, cancellationToken);
        }
        throw new InvalidOperationException($"{failure}: pid {process.Pid}, within {timeout}{(process.HasExited ? ", exited" : "")}. Output:\n{process.Output}");
    }
}
