using System.Collections.Concurrent;
using System.Text.Json;
using PuppeteerSharp;
using PuppeteerSharp.Media;

namespace AkkaCollector.IntegrationTests.Browser;

/// <summary>What the page's own network layer reported for one request: its answer's status, or why it failed.</summary>
public sealed record NetworkResult(string Method, string Url, string ResourceType, int? Status, string? Failure)
{
    public override string ToString() => $"{Method} {Url} ({ResourceType}): {(Failure is null ? Status?.ToString() ?? "no answer yet" : "FAILED " + Failure)}";
}

/// <summary>
/// A page whose every request, answer, network failure, console line and uncaught error is recorded. The network is
/// read from the DevTools protocol's own Network events on the page's target (a raw session, not PuppeteerSharp's
/// request objects): requests a document makes while it is being left (fetch keepalive, sendBeacon) are reported there
/// after the document itself is gone.
/// </summary>
public sealed class WatchedPage
{
    private readonly ConcurrentDictionary<string, NetworkResult> _requests = new();
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ConcurrentQueue<string> _console = new();

    private WatchedPage(IPage page)
    {
        Page = page;
        page.Console += (_, e) => _console.Enqueue($"{e.Message.Type}: {e.Message.Text}");
        page.PageError += (_, e) => _console.Enqueue($"uncaught: {e.Message}");
    }

    internal static async Task<WatchedPage> WatchAsync(IPage page)
    {
        var watched = new WatchedPage(page);
        var session = await page.CreateCDPSessionAsync();
        session.MessageReceived += (_, e) => watched.OnProtocolEvent(e.MessageID, e.MessageData);
        await session.SendAsync("Network.enable");
        return watched;
    }

    private void OnProtocolEvent(string method, JsonElement data)
    {
        if (!method.StartsWith("Network.", StringComparison.Ordinal) || !data.TryGetProperty("requestId", out var idElement))
            return;
        var id = idElement.GetString()!;
        switch (method)
        {
            case "Network.requestWillBeSent":
                var request = data.GetProperty("request");
                var type = data.TryGetProperty("type", out var kind) ? kind.GetString() ?? "" : "";
                if (_requests.TryAdd(id, new NetworkResult(request.GetProperty("method").GetString()!, request.GetProperty("url").GetString()!, type, null, null)))
                    _order.Enqueue(id);
                break;
            case "Network.responseReceived":
                var status = data.GetProperty("response").GetProperty("status").GetInt32();
                _requests.AddOrUpdate(id, _ => new NetworkResult("?", data.GetProperty("response").GetProperty("url").GetString()!, "", status, null),
                    (_, seen) => seen with { Status = status });
                break;
            case "Network.loadingFailed":
                var failure = data.GetProperty("errorText").GetString()
                              + (data.TryGetProperty("corsErrorStatus", out var cors) ? $" (CORS {cors})" : "")
                              + (data.TryGetProperty("blockedReason", out var blocked) ? $" (blocked: {blocked})" : "");
                _requests.AddOrUpdate(id, _ => new NetworkResult("?", "?", "", null, failure), (_, seen) => seen with { Failure = failure });
                break;
        }
    }

    public IPage Page { get; }

    /// <summary>Every request the page made so far, in the order it made them.</summary>
    public IReadOnlyList<NetworkResult> Network => [.. _order.Select(id => _requests[id])];

    /// <summary>The page's console output and uncaught errors so far.</summary>
    public IReadOnlyList<string> Console => [.. _console];

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its value.</summary>
    public Task<T> EvaluateAsync<T>(string expression) => Page.EvaluateExpressionAsync<T>(expression);

    /// <summary>A PNG of the viewport, or of <paramref name="clip"/> (CSS pixels) when given.</summary>
    public Task<byte[]> ScreenshotAsync(Clip? clip = null) =>
        Page.ScreenshotDataAsync(new ScreenshotOptions { Type = ScreenshotType.Png, Clip = clip });

    /// <summary>What the test saw of the page, for a failure message.</summary>
    public string Describe() =>
        $"network:\n  {string.Join("\n  ", Network)}\nconsole:\n  {string.Join("\n  ", Console)}";
}
