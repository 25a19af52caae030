using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AkkaCollector.Rig.Verification;

namespace AkkaCollector.Rig.Traffic;

/// <summary>
/// The one producer of the rig and of the tests: sends generated events to a pool of collectors at a target rate (or
/// as fast as they answer), with bounded concurrency, until the duration or the event count is reached, and records
/// every attempt in the ledger. With <see cref="LoadOptions.GiveUpAfter"/> a request that got a 5xx or no answer is
/// sent again with the same messageIds, to the next collector in turn, as an SDK behind a load balancer would.
/// Stopping (the token) ends the sending and the retries; requests already in flight finish and are recorded, so the
/// ledger never holds an event whose answer was thrown away. A generator may run again: each run sends its own
/// bounded share of new events.
/// </summary>
public sealed class LoadGenerator : IDisposable
{
    private readonly LoadOptions _options;
    private readonly TargetPool _targets;
    private readonly Ledger _ledger;
    private readonly EventFactory _events;
    private readonly HttpClient _http;
    private long _issued;
    private long _runStarted;
    private int _running;

    public LoadGenerator(LoadOptions options, TargetPool targets, Ledger ledger, string runId)
    {
        options.Validate();
        _options = options;
        _targets = targets;
        _ledger = ledger;
        _events = new EventFactory(runId, options.Users, options.WriteKeys, options.BatchSize, options.PaddingBytes, options.ClientAddress);
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            // A restarted collector comes back on the same port: pooled connections to the old process must go.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(2),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The live counters, over every run.</summary>
    public LoadStats Stats { get; } = new();

    /// <summary>
    /// Runs until the duration or count bound, or until <paramref name="stop"/> is cancelled; returns the counters so
    /// far. One run at a time.
    /// </summary>
    public async Task<LoadSnapshot> RunAsync(CancellationToken stop)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
            throw new InvalidOperationException("The load generator is already running.");
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stop);
            bounded.CancelAfter(_options.Duration);
            Volatile.Write(ref _issued, 0);
            Volatile.Write(ref _runStarted, Stopwatch.GetTimestamp());
            var workers = Enumerable.Range(0, _options.Concurrency).Select(_ => Task.Run(() => WorkAsync(bounded.Token), CancellationToken.None));
            await Task.WhenAll(workers);
            _ledger.Flush();
            return Stats.Snapshot();
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task WorkAsync(CancellationToken stop)
    {
        var batch = _options.BatchSize;
        while (!stop.IsCancellationRequested)
        {
            var issued = Interlocked.Add(ref _issued, batch) - batch;
            if (issued + batch > _options.MaxEvents)
                return;
            if (_options.Rate > 0)
            {
                var due = TimeSpan.FromSeconds(issued / _options.Rate) - Stopwatch.GetElapsedTime(Volatile.Read(ref _runStarted));
                if (due > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(due, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
            await DeliverAsync(_events.Next(), stop);
        }
    }

    /// <summary>Sends one request until it is answered 200 or 4xx, or until <see cref="LoadOptions.GiveUpAfter"/> has passed or the run stops.</summary>
    private async Task DeliverAsync(EventRequest request, CancellationToken stop)
    {
        var giveUpAt = Stopwatch.GetTimestamp() + (long)(_options.GiveUpAfter.TotalSeconds * Stopwatch.Frequency);
        // 0 is no answer at all; a 5xx or no answer may be a collector going away, which the next one does not share.
        for (var status = await SendAsync(request, _targets.Next());
             status is 0 or >= 500 && Stopwatch.GetTimestamp() < giveUpAt;
             status = await SendAsync(request, _targets.Next()))
        {
            try
            {
                await Task.Delay(_options.RetryDelay, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One attempt, recorded; returns the HTTP status, or 0 when no answer came.</summary>
    private async Task<int> SendAsync(EventRequest request, Uri target)
    {
        var targetName = target.Authority;
        using var timeout = new CancellationTokenSource(_options.RequestTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(target, request.Path))
            {
                Content = new ReadOnlyMemoryContent(request.Body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            // Segment's SDKs send the write key as the Basic user name with an empty password.
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(request.WriteKey + ":")));
            // Collectors that trust 127.0.0.1 as their proxy (the rig's do) take the client from here, as behind a real load balancer.
            message.Headers.Add("X-Forwarded-For", request.ClientAddress);
            using var response = await _http.SendAsync(message, timeout.Token);
            var status = (int)response.StatusCode;
            var cause = status == 200 ? "ok" : CauseOf(status, await response.Content.ReadAsByteArrayAsync(timeout.Token));
            var latency = Stopwatch.GetElapsedTime(started);
            Stats.Answered(status, request.MessageIds.Length, latency, cause);
            Record(request, targetName, latency, status == 200 ? EventOutcome.Acked : EventOutcome.Rejected, status, cause);
            return status;
        }
        // A SocketException of its own: HttpClient lets one through unwrapped when the peer resets a connection it had
        // just accepted, before the client could read the peer's address (NotConnected; seen in the SIGTERM test at unbind).
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or SocketException)
        {
            var cause = ConnectionCause(e, timeout.IsCancellationRequested);
            Stats.Failed(request.MessageIds.Length, cause);
            Record(request, targetName, Stopwatch.GetElapsedTime(started), EventOutcome.ConnectionError, 0, cause);
            return 0;
        }
    }

    private void Record(EventRequest request, string target, TimeSpan latency, EventOutcome outcome, int status, string cause)
    {
        var elapsedMs = (long)Stats.Elapsed.TotalMilliseconds;
        _ledger.Record(request.MessageIds.Select(id => new LedgerEntry(elapsedMs, target, id, outcome, status, cause, latency.TotalMilliseconds)));
    }

    /// <summary>"STATUS reason", the reason being the collector's <c>{"error":"..."}</c> when the body has one.</summary>
    internal static string CauseOf(int status, byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                return $"{status} {error.GetString()}";
        }
        catch (JsonException)
        {
            // Not the collector's error body (a proxy's page, an empty body): the status alone is the cause.
        }
        return $"{status}";
    }

    private static string ConnectionCause(Exception e, bool timedOut)
    {
        if (timedOut)
            return "connection timeout";
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
                return $"connection {socket.SocketErrorCode}";
        }
        return e is HttpRequestException http ? $"connection {http.HttpRequestError}" : $"connection {e.GetType().Name}";
    }
}
