using System.Diagnostics;
using System.Net;

namespace AkkaCollector.Testing.Processes;

/// <summary>Asking a collector's <c>/health/ready</c> what a load balancer's check asks, until it gives the answer wanted.</summary>
public static class Readiness
{
    /// <summary>The readiness route.</summary>
    public const string Path = "/health/ready";

    /// <summary>
    /// Asks <c>/health/ready</c> every 50 ms until it answers <paramref name="expected"/>; a refused connection counts as
    /// another answer (not listening yet). Returns the body: the state (<c>ready</c>, <c>starting</c>, ...).
    /// </summary>
    /// <exception cref="TimeoutException">No such answer within <paramref name="patience"/>; the message has the last one.</exception>
    public static async Task<string> WaitForAsync(HttpClient http, HttpStatusCode expected, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        var last = "nothing";
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(Path);
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == expected)
                    return body;
                last = $"{(int)response.StatusCode} {body}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            if (clock.Elapsed >= patience)
                throw new TimeoutException($"{Path} did not answer {(int)expected} within {patience}; last: {last}");
            await Task.Delay(50);
        }
    }
}
