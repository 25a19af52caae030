using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AkkaCollector.Testing.Traffic;

/// <summary>How an <see cref="EventSender"/> behaves.</summary>
public sealed record EventSenderOptions
{
    /// <summary>Concurrent producers, each with one request in flight.</summary>
    public int Workers { get; init; } = 32;

    /// <summary>Overall pace in events per second; null sends as fast as the workers get answers.</summary>
    public double? EventsPerSecond { get; init; }

    /// <summary>Extra bytes in each event's properties, to fill a spool with fewer events.</summary>
    public int PaddingBytes { get; init; }

    /// <summary>Write key sent as HTTP Basic username.</summary>
    public string WriteKey { get; init; } = "durability";

    /// <summary>Pause between attempts at one event after a 5xx or a connection error.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long one event is retried before it is abandoned; zero means one attempt only.</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on one request, answer included.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>X-Forwarded-For sent with every request, as a load balancer in front of the collector would add it; null sends none.</summary>
    public string? ForwardedFor { get; init; }
}

/// <summary>
/// Concurrent producers posting single events to <c>/v1/track</c>, each with a unique messageId, and retrying an
/// event (same messageId, as SDKs do) after a 5xx or a connection error; a 4xx is final. Every answer goes into
/// <see cref="Ledger"/>. Traffic goes only to the given collector.
/// </summary>
public sealed class EventSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly Uri _trackUrl;
    private readonly EventSenderOptions _options;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly string _padding;
    private int _nextIndex;

    public EventSender(string baseUrl, EventSenderOptions? options = null)
    {
        _options = options ?? new EventSenderOptions();
        _trackUrl = new Uri(baseUrl.TrimEnd('/') + "/v1/track");
        _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_options.WriteKey + ":")));
        _padding = new string('x', _options.PaddingBytes);
        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = _options.Workers,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            // A restarted collector is a new server: do not keep offering it connections of the old one.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Distinguishes this sender's messageIds from every other run's.</summary>
    public string RunId { get; } = Guid.NewGuid().ToString("N")[..8];

    /// <summary>What the collector answered.</summary>
    public AckLedger Ledger { get; } = new();

    /// <summary>The messageId of the event numbered <paramref name="index"/>.</summary>
    public string MessageIdOf(int index) => $"{RunId}-{index}";

    /// <summary>Sends the next <paramref name="count"/> events and returns once each is acked or abandoned.</summary>
    public async Task SendAsync(int count, CancellationToken cancellationToken = default)
    {
        var first = Interlocked.Add(ref _nextIndex, count) - count;
        var end = first + count;
        var claimed = first - 1;
        var started = Stopwatch.GetTimestamp();

        async Task WorkAsync()
        {
            for (var index = Interlocked.Increment(ref claimed); index < end; index = Interlocked.Increment(ref claimed))
            {
                if (_options.EventsPerSecond is { } rate)
                    await PaceAsync(started, (index - first) / rate, cancellationToken);
                await DeliverAsync(index, cancellationToken);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(_options.Workers, count)).Select(_ => Task.Run(WorkAsync, cancellationToken)));
    }

    public void Dispose() => _client.Dispose();

    private static async Task PaceAsync(long started, double dueSeconds, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.FromSeconds(dueSeconds) - Stopwatch.GetElapsedTime(started);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, cancellationToken);
    }

    private async Task DeliverAsync(int index, CancellationToken cancellationToken)
    {
        var messageId = MessageIdOf(index);
        var body = Encoding.UTF8.GetBytes(EventJson(index, messageId));
        var giveUpAt = Stopwatch.GetTimestamp() + (long)(_options.GiveUpAfter.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var failure = await AttemptAsync(messageId, body, cancellationToken);
            if (failure is null)
            {
                Ledger.Ack(messageId);
                return;
            }
            Ledger.Fail(failure);
            if (failure.Status is < 500 || Stopwatch.GetTimestamp() >= giveUpAt)
            {
                Ledger.Abandon(messageId);
                return;
            }
            await Task.Delay(_options.RetryDelay, cancellationToken);
        }
    }

    /// <summary>One POST; null when answered 200.</summary>
    private async Task<SendFailure?> AttemptAsync(string messageId, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _trackUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = _authorization;
        if (_options.ForwardedFor is { } forwardedFor)
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        var startedAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var failure = await SendOnceAsync(request, messageId, cancellationToken);
        Ledger.Time(new TimedAttempt(messageId, startedAt, Stopwatch.GetElapsedTime(started), failure is null ? 200 : failure.Status));
        return failure;
    }

    private async Task<SendFailure?> SendOnceAsync(HttpRequestMessage request, string messageId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            using var response = await _client.SendAsync(request, timeout.Token);
            if (response.StatusCode == HttpStatusCode.OK)
                return null;
            var answer = await response.Content.ReadAsStringAsync(timeout.Token);
            return new SendFailure(messageId, DateTimeOffset.UtcNow, (int)response.StatusCode, response.Headers.RetryAfter?.ToString(), answer, null);
        }
        catch (HttpRequestException e)
        {
            // The inner exception says what the socket saw (refused, reset by peer, ...), which the outer message does not.
            return new SendFailure(messageId, DateTimeOffset.UtcNow, null, null, null,
                $"{e.HttpRequestError}: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendFailure(messageId, DateTimeOffset.UtcNow, null, null, null, $"Timeout: no answer within {_options.RequestTimeout}");
        }
    }

    private string EventJson(int index, string messageId) => string.Create(CultureInfo.InvariantCulture,
        // Users spread events over the collector's spool partitions and Kafka's partitions.
        $$$"""{"userId":"user-{{{index % 1009}}}","event":"Durability Probe","messageId":"{{{messageId}}}","properties":{"index":{{{index}}},"padding":"{{{_padding}}}"}}""");
}
