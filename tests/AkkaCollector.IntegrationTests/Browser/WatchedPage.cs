using System.Collections.Concurrent;
using PuppeteerSharp;
using PuppeteerSharp.Media;

namespace AkkaCollector.IntegrationTests.Browser;

/// <summary>What the page's own network layer reported for one request: its answer's status, or why it failed.</summary>
public sealed record NetworkResult(string Method, string Url, string ResourceType, int? Status, string? Failure)
{
    public override string ToString() => $"{Method} {Url} ({ResourceType}): {(Failure is null ? Status?.ToString() ?? "no answer yet" : "FAILED " + Failure)}";
}

/// <summary>A page whose every request, answer, network failure, console line and uncaught error is recorded.</summary>
public sealed class WatchedPage
{
    private readonly ConcurrentDictionary<IRequest, NetworkResult> _requests = new();
    private readonly ConcurrentQueue<IRequest> _order = new();
    private readonly ConcurrentQueue<string> _console = new();

    internal WatchedPage(IPage page)
    {
        Page = page;
        page.Request += (_, e) =>
        {
            _requests[e.Request] = new NetworkResult(e.Request.Method.ToString().ToUpperInvariant(), e.Request.Url, e.Request.ResourceType.ToString(), null, null);
            _order.Enqueue(e.Request);
        };
        page.Response += (_, e) =>
            _requests.AddOrUpdate(e.Response.Request, request => Unseen(request) with { Status = (int)e.Response.Status }, (_, seen) => seen with { Status = (int)e.Response.Status });
        page.RequestFailed += (_, e) =>
            _requests.AddOrUpdate(e.Request, request => Unseen(request) with { Failure = e.Request.FailureText }, (_, seen) => seen with { Failure = e.Request.FailureText ?? "failed" });
        page.Console += (_, e) => _console.Enqueue($"{e.Message.Type}: {e.Message.Text}");
        page.PageError += (_, e) => _console.Enqueue($"uncaught: {e.Message}");
    }

    public IPage Page { get; }

    /// <summary>Every request the page made so far, in the order it made them.</summary>
    public IReadOnlyList<NetworkResult> Network => [.. _order.Distinct().Select(request => _requests[request])];

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

    private static NetworkResult Unseen(IRequest request) =>
        new(request.Method.ToString().ToUpperInvariant(), request.Url, request.ResourceType.ToString(), null, null);
}
