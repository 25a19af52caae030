using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AkkaCollector.Ingress;
using AkkaCollector.Lookups;
using AkkaCollector.Spooling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCollector.Tests.Ingress;

/// <summary>The tracking API on an in-process test server, with a spool and lookups the test controls.</summary>
internal sealed class IngressTestHost : IAsyncDisposable
{
    /// <summary>Test-only header that sets the connection's peer address (the test server has no real peer).</summary>
    public const string PeerHeader = "X-Test-Peer";

    private readonly WebApplication _app;

    private IngressTestHost(WebApplication app, RecordingSpool spool, ScriptedLookups lookups)
    {
        _app = app;
        Spool = spool;
        Lookups = lookups;
        Client = app.GetTestClient();
    }

    public RecordingSpool Spool { get; }

    public ScriptedLookups Lookups { get; }

    public HttpClient Client { get; }

    public static Task<IngressTestHost> StartAsync(params (string Key, string Value)[] settings) => StartAsync(null, settings);

    /// <summary>A host whose spool is <paramref name="customSpool"/> (then <see cref="Spool"/> records nothing).</summary>
    public static async Task<IngressTestHost> StartAsync(IEventSpool? customSpool, params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        var spool = new RecordingSpool();
        var lookups = new ScriptedLookups();
        builder.Services.AddTrackingApi(builder.Configuration);
        builder.Services.AddSingleton<IEventSpool>(customSpool ?? spool);
        builder.Services.AddSingleton<IRequestLookups>(lookups);
        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue(PeerHeader, out var peer))
                context.Connection.RemoteIpAddress = IPAddress.Parse(peer.ToString());
            return next(context);
        });
        app.MapTrackingApi();
        await app.StartAsync();
        return new IngressTestHost(app, spool, lookups);
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json, string? basicWriteKey = null) =>
        PostAsync(path, Encoding.UTF8.GetBytes(json), basicWriteKey);

    public Task<HttpResponseMessage> PostAsync(string path, byte[] body, string? basicWriteKey = null, string? contentEncoding = null, string? peer = null, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (contentEncoding is not null)
            request.Content.Headers.ContentEncoding.Add(contentEncoding);
        if (basicWriteKey is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basicWriteKey + ":")));
        if (peer is not null)
            request.Headers.Add(PeerHeader, peer);
        if (forwardedFor is not null)
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A spool that records what it is handed and answers with the outcome the test chose.</summary>
internal sealed class RecordingSpool : IEventSpool
{
    private readonly ConcurrentQueue<SpooledEvent> _received = new();

    public SpoolOutcome Outcome { get; set; } = SpoolOutcome.Stored;

    /// <summary>When set, the spool throws this instead of answering (an Ask that timed out, say).</summary>
    public Exception? Throws { get; set; }

    public IReadOnlyList<SpooledEvent> Received => _received.ToArray();

    public Task<SpoolOutcome> SpoolAsync(IReadOnlyList<SpooledEvent> events, CancellationToken cancellationToken)
    {
        if (Throws is not null)
            return Task.FromException<SpoolOutcome>(Throws);
        foreach (var spooled in events)
            _received.Enqueue(spooled);
        return Task.FromResult(Outcome);
    }
}

/// <summary>Lookups that answer with the verdict the test chose and remember who asked.</summary>
internal sealed class ScriptedLookups : IRequestLookups
{
    private readonly ConcurrentQueue<(string WriteKey, IPAddress? Client)> _calls = new();

    public LookupVerdict Verdict { get; set; } = LookupVerdict.Accept;

    public IReadOnlyList<(string WriteKey, IPAddress? Client)> Calls => _calls.ToArray();

    public ValueTask<LookupVerdict> CheckAsync(string writeKey, IPAddress? clientAddress, CancellationToken cancellationToken)
    {
        _calls.Enqueue((writeKey, clientAddress));
        return ValueTask.FromResult(Verdict);
    }
}

/// <summary>Request bodies the tests send.</summary>
internal static class Bodies
{
    private static readonly Lazy<byte[]> FiftyMegabyteBomb = new(() => GzipOfZeros(50 * 1024 * 1024));

    /// <summary>50 MB of zeros, gzip-compressed to about 50 KB.</summary>
    public static byte[] GzipBomb => FiftyMegabyteBomb.Value;

    public static byte[] Gzip(string json)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal))
            gzip.Write(Encoding.UTF8.GetBytes(json));
        return compressed.ToArray();
    }

    public static string Track(string userId = "u1", string extra = "") =>
        $$"""{"userId":"{{userId}}","event":"Signed Up"{{extra}}}""";

    public static string Batch(int events, string writeKey = "wk", int padding = 0) =>
        $$"""{"writeKey":"{{writeKey}}","batch":[{{string.Join(",", Enumerable.Range(0, events).Select(i => $$"""{"type":"track","event":"e","userId":"u{{i}}"{{Padding(padding)}}}"""))}}]}""";

    public static string Padding(int bytes) => bytes == 0 ? "" : $$""","properties":{"pad":"{{new string('x', bytes)}}"}""";

    public static JsonElement Json(byte[] payload) => JsonDocument.Parse(payload).RootElement;

    private static byte[] GzipOfZeros(int inflatedBytes)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize))
        {
            var zeros = new byte[64 * 1024];
            for (var written = 0; written < inflatedBytes; written += zeros.Length)
                gzip.Write(zeros);
        }
        return compressed.ToArray();
    }
}
