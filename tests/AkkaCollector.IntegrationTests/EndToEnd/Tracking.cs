using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AkkaCollector.IntegrationTests.EndToEnd;

/// <summary>Single tracking requests, for the tests that look at one answer at a time rather than at traffic.</summary>
internal static class Tracking
{
    /// <summary>POSTs one track event to <c>/v1/track</c> with <paramref name="writeKey"/> as Basic auth.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient http, string writeKey, string userId = "user-1")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track")
        {
            Content = new StringContent($$"""{"userId":"{{userId}}","event":"End To End"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{writeKey}:")));
        return await http.SendAsync(request);
    }

    /// <summary>
    /// Waits until the app registry answers from Redis, i.e. an unregistered key gets 401: until the collector has
    /// connected to Redis, its lookups answer their defaults (accept unverified, no limit) by design.
    /// </summary>
    public static async Task WaitUntilRegistryAnswersAsync(HttpClient http, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            using var response = await PostAsync(http, "never-registered");
            status = response.StatusCode;
            if (status == HttpStatusCode.Unauthorized)
                return;
            await Task.Delay(100);
        }
        while (deadline.Elapsed < timeout);
        throw new TimeoutException($"The app registry never answered within {timeout}: an unregistered key still got {(int)status}.");
    }
}

/// <summary>The end-to-end tests start several real processes each and measure latency: one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class EndToEndCollection
{
    public const string Name = "end to end";
}
