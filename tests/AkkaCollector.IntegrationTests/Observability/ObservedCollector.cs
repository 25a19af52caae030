using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Observability;

/// <summary>
/// The collector binary of this build, run as a real process on a loopback port the OS picks, with a fresh spool
/// folder and (no Kafka configured) its in-process mock Kafka. Disposing kills it by PID and removes the spool.
/// </summary>
internal sealed partial class ObservedCollector : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _spool;

    private ObservedCollector(ChildProcess process, Uri baseAddress, DirectoryInfo spool)
    {
        Process = process;
        BaseAddress = baseAddress;
        _spool = spool;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The running collector (PID, output, signals).</summary>
    public ChildProcess Process { get; }

    /// <summary>Where it listens, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client for <see cref="BaseAddress"/>.</summary>
    public HttpClient Http { get; }

    /// <summary>Starts the collector with <paramref name="settings"/> (e.g. <c>--Logging:Format=json</c>) and returns once its start-up line names its address.</summary>
    public static async Task<ObservedCollector> StartAsync(params string[] settings)
    {
        var spool = Directory.CreateTempSubdirectory("collector-observability-");
        var process = ChildProcess.StartDotnet(CollectorBinary.Path, ["--urls", "http://127.0.0.1:0", $"--Spool:Path={spool.FullName}", .. settings]);
        try
        {
            var started = await process.WaitForLineAsync(line => StartedLine().IsMatch(line), StartTimeout);
            return new ObservedCollector(process, new Uri(StartedLine().Match(started).Groups["address"].Value), spool);
        }
        catch
        {
            process.Dispose();
            spool.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>POSTs one Segment track event, with the write key as Basic auth when given; returns the status code.</summary>
    public async Task<int> TrackAsync(string userId, string? writeKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track")
        {
            Content = new StringContent($$"""{"userId":"{{userId}}","event":"Dashboard Test"}""", Encoding.UTF8, "application/json"),
        };
        if (writeKey is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{writeKey}:")));
        using var response = await Http.SendAsync(request);
        return (int)response.StatusCode;
    }

    public void Dispose()
    {
        Http.Dispose();
        Process.Dispose();
        _spool.Delete(recursive: true);
    }

    [GeneratedRegex(@"Collector started: listening on (?<address>http://127\.0\.0\.1:\d+)")]
    private static partial Regex StartedLine();
}
