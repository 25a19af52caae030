using System.Net.Http.Headers;
using AkkaCollector.Shutdown;

namespace AkkaCollector.Verbs;

/// <summary>
/// <c>AkkaCollector shutdown --url http://127.0.0.1:8080 [--token T] [--reason R]</c>: asks a running collector
/// for a coordinated shutdown through <c>POST /admin/shutdown</c> and prints its answer. The token defaults to
/// the environment variable COLLECTOR_ADMIN_TOKEN, which keeps it out of the process list.
/// </summary>
public static class ShutdownVerb
{
    /// <summary>The verb's name on the command line.</summary>
    public const string Name = "shutdown";

    /// <summary>Where the token is read from when --token is not given.</summary>
    public const string TokenVariable = "COLLECTOR_ADMIN_TOKEN";

    private const int UsageExitCode = 64; // EX_USAGE
    private const int RefusedExitCode = 1;
    private const string Usage = "usage: shutdown --url http://127.0.0.1:8080 [--token T | env COLLECTOR_ADMIN_TOKEN] [--reason R]";

    /// <summary>Exit 0 when the collector answered 202; 1 when it refused or was unreachable; 64 on bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var options = ParseOptions(args);
        if (options is null || !options.TryGetValue("--url", out var url) || !Uri.TryCreate(url, UriKind.Absolute, out var baseUri))
        {
            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            return UsageExitCode;
        }
        var token = options.GetValueOrDefault("--token") ?? Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrEmpty(token))
        {
            await error.WriteLineAsync($"no token: pass --token or set {TokenVariable}").ConfigureAwait(false);
            return UsageExitCode;
        }

        var reason = options.GetValueOrDefault("--reason") ?? $"shutdown verb from {Environment.MachineName}";
        var target = new Uri(baseUri, $"{AdminShutdownEndpoint.Path}?reason={Uri.EscapeDataString(reason)}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Post, target);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await http.SendAsync(request).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            await output.WriteLineAsync($"{(int)response.StatusCode} {response.ReasonPhrase} {body}".TrimEnd()).ConfigureAwait(false);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
                await error.WriteLineAsync(AdminShutdownEndpoint.OffError).ConfigureAwait(false);
            return response.StatusCode == System.Net.HttpStatusCode.Accepted ? 0 : RefusedExitCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"{target.GetLeftPart(UriPartial.Path)}: {ex.Message}").ConfigureAwait(false);
            return RefusedExitCode;
        }
    }

    // Pairs of --name value; null when a name lacks its value or something else is there.
    private static Dictionary<string, string>? ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length || args[i] is not ("--url" or "--token" or "--reason"))
                return null;
            options[args[i]] = args[i + 1];
        }
        return options;
    }
}
