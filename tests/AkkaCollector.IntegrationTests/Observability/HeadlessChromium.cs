using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AkkaCollector.Testing.Processes;

namespace AkkaCollector.IntegrationTests.Observability;

/// <summary>
/// Debian's chromium, headless, showing one page and driven over the Chrome DevTools Protocol (a WebSocket to its
/// remote-debugging port): evaluate JavaScript in the page, take screenshots. Disposing kills the browser and every
/// process it started, by PID.
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    private const string Executable = "/usr/bin/chromium";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly ChildProcess _browser;
    private readonly DirectoryInfo _profile;
    private readonly ClientWebSocket _page;
    private readonly SemaphoreSlim _oneCommandAtATime = new(1, 1);
    private int _nextId;

    private HeadlessChromium(ChildProcess browser, DirectoryInfo profile, ClientWebSocket page)
    {
        _browser = browser;
        _profile = profile;
        _page = page;
    }

    /// <summary>Starts chromium on <paramref name="url"/> in a fresh profile and connects to that page.</summary>
    /// <exception cref="InvalidOperationException">chromium is not installed.</exception>
    public static async Task<HeadlessChromium> OpenAsync(Uri url, int width, int height)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: this test needs Debian's chromium (apt-get install -y chromium).");

        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        var browser = ChildProcess.Start(Executable,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            $"--user-data-dir={profile.FullName}", $"--window-size={width},{height}", url.ToString(),
        ]);
        try
        {
            var listening = await browser.WaitForLineAsync(line => DevToolsLine().IsMatch(line), StartTimeout);
            var devTools = new Uri($"http://{DevToolsLine().Match(listening).Groups["origin"].Value}");
            var page = await ConnectToPageAsync(devTools, url);
            return new HeadlessChromium(browser, profile, page);
        }
        catch
        {
            KillTree(browser);
            profile.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its value as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression,
            ["returnByValue"] = true,
            ["awaitPromise"] = true,
        });
        if (result.TryGetProperty("exceptionDetails", out var exception))
            throw new InvalidOperationException($"The page threw while evaluating {expression}: {exception}");
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>A PNG of the page as it is drawn now.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_page.State == WebSocketState.Open)
                await _page.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // The browser is killed below either way.
        }
        _page.Dispose();
        KillTree(_browser);
        _profile.Delete(recursive: true);
    }

    private static async Task<ClientWebSocket> ConnectToPageAsync(Uri devTools, Uri url)
    {
        using var http = new HttpClient { BaseAddress = devTools, Timeout = CommandTimeout };
        var targets = await http.GetFromJsonAsync<JsonElement>("/json/list");
        var page = targets.EnumerateArray().FirstOrDefault(target =>
            target.GetProperty("type").GetString() == "page"
            && target.GetProperty("url").GetString()!.StartsWith(url.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal));
        if (page.ValueKind == JsonValueKind.Undefined)
            throw new InvalidOperationException($"chromium shows no page at {url}; its targets: {targets}");

        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None);
        return socket;
    }

    private async Task<JsonElement> SendAsync(string method, JsonObject parameters)
    {
        await _oneCommandAtATime.WaitAsync();
        try
        {
            using var timeout = new CancellationTokenSource(CommandTimeout);
            var id = ++_nextId;
            var command = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
            await _page.SendAsync(Encoding.UTF8.GetBytes(command.ToJsonString()), WebSocketMessageType.Text, true, timeout.Token);
            // Replies come in order with any events in between; without Domain.enable there are few events, all skipped.
            while (true)
            {
                using var reply = JsonDocument.Parse(await ReceiveMessageAsync(timeout.Token));
                if (!reply.RootElement.TryGetProperty("id", out var replyId) || replyId.GetInt32() != id)
                    continue;
                if (reply.RootElement.TryGetProperty("error", out var error))
                    throw new InvalidOperationException($"chromium refused {method}: {error}");
                return reply.RootElement.GetProperty("result").Clone();
            }
        }
        finally
        {
            _oneCommandAtATime.Release();
        }
    }

    private async Task<byte[]> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        WebSocketReceiveResult received;
        do
        {
            received = await _page.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
                throw new InvalidOperationException($"chromium closed the DevTools connection. Output:\n{_browser.Output}");
            message.Write(buffer, 0, received.Count);
        } while (!received.EndOfMessage);
        return message.ToArray();
    }

    /// <summary>Chromium forks a zygote, renderers and utilities: list them all by PID before the browser dies and orphans them.</summary>
    private static void KillTree(ChildProcess browser)
    {
        var descendants = Descendants(browser.Pid);
        browser.Dispose();
        foreach (var pid in descendants)
            Signals.Send(pid, Signals.SIGKILL);
    }

    private static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
                continue;
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list))
                    children[parent] = list = [];
                list.Add(pid);
            }
            catch (IOException)
            {
                // Exited while we looked.
            }
        }

        var found = new List<int>();
        var pending = new Queue<int>([root]);
        while (pending.TryDequeue(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                found.Add(child);
                pending.Enqueue(child);
            }
        }
        return found;
    }

    [GeneratedRegex(@"DevTools listening on ws://(?<origin>127\.0\.0\.1:\d+)/")]
    private static partial Regex DevToolsLine();
}
