using System.Collections.Concurrent;
using System.Globalization;
using AkkaCollector.Testing.Processes;
using PuppeteerSharp;

namespace AkkaCollector.IntegrationTests.Browser;

/// <summary>
/// Debian's chromium (never a downloaded browser), headless in a fresh profile, driven by PuppeteerSharp: the one browser
/// fixture of the dashboard test and the browser SDK tests. Disposing stops every process it started, by PID, on every
/// path: chromium forks a zygote, renderers and utility processes, and some of them come later than the browser (a
/// renderer per page, a utility per service), so the tree is frozen (SIGSTOP) and re-listed until it stops growing,
/// then killed; processes that name this fixture's own profile folder on their command line are caught as well, should
/// one have been re-parented away from the tree.
/// </summary>
public sealed class HeadlessBrowser : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly IBrowser _browser;
    private readonly DirectoryInfo _profile;
    private readonly int _pid;
    private readonly ConcurrentDictionary<int, byte> _seen = new();

    private HeadlessBrowser(IBrowser browser, DirectoryInfo profile, int pid)
    {
        _browser = browser;
        _profile = profile;
        _pid = pid;
    }

    /// <summary>The browser process's PID.</summary>
    public int Pid => _pid;

    /// <summary>Starts chromium; fails, saying how to get it, when Debian's chromium is not installed.</summary>
    public static async Task<HeadlessBrowser> LaunchAsync()
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: the browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it).");
        var profile = Directory.CreateTempSubdirectory("akkacollector-chromium-");
        IBrowser? browser = null;
        try
        {
            browser = await Puppeteer.LaunchAsync(new LaunchOptions
            {
                ExecutablePath = Executable,
                Headless = true,
                UserDataDir = profile.FullName,
                Timeout = 60_000,
                ProtocolTimeout = 60_000,
                // Root in a container: no sandbox; nothing of the browser's own reaching outside this machine.
                Args =
                [
                    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                ],
            });
            var pid = browser.Process?.Id ?? throw new InvalidOperationException("PuppeteerSharp started chromium but reports no process");
            return new HeadlessBrowser(browser, profile, pid);
        }
        catch
        {
            if (browser?.Process is { } process)
                StopTree(process.Id, profile.FullName, []);
            DeleteProfile(profile);
            throw;
        }
    }

    /// <summary>A new page (tab) of <paramref name="width"/>×<paramref name="height"/> CSS pixels, its network watched from its first request.</summary>
    public async Task<WatchedPage> NewPageAsync(int width = 1280, int height = 1000)
    {
        var page = await _browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = width, Height = height });
        var watched = await WatchedPage.WatchAsync(page);
        Remember();
        return watched;
    }

    /// <summary>Every process of this browser alive now: the browser and its descendants, and any that names this profile.</summary>
    public IReadOnlyList<int> Processes() => [.. ProcessTree.Of(_pid, _profile.FullName)];

    public async ValueTask DisposeAsync()
    {
        Remember();
        try
        {
            // Chromium's own shutdown first: it ends its children itself when it can.
            await _browser.CloseAsync().WaitAsync(CloseTimeout);
        }
        catch (Exception e) when (e is TimeoutException or PuppeteerException or ObjectDisposedException or IOException)
        {
            // Killed below either way.
        }
        finally
        {
            StopTree(_pid, _profile.FullName, _seen.Keys);
            _browser.Dispose();
            DeleteProfile(_profile);
        }
    }

    /// <summary>Notes every process of the tree now, so one that outlives its parent is still known by PID at the end.</summary>
    private void Remember()
    {
        foreach (var pid in ProcessTree.Of(_pid, _profile.FullName))
            _seen.TryAdd(pid, 0);
    }

    /// <summary>
    /// SIGSTOPs the browser, then its descendants until no new one appears (a stopped process forks nothing), then
    /// SIGKILLs all of them and every process seen before that is still this browser's; waits until none is left.
    /// </summary>
    private static void StopTree(int root, string profile, IEnumerable<int> seenBefore)
    {
        var stopped = new HashSet<int>();
        if (ProcessTree.IsAlive(root) && Signals.Send(root, Signals.SIGSTOP))
            stopped.Add(root);
        for (var round = 0; round < 50; round++)
        {
            var fresh = ProcessTree.Of(root, profile).Where(pid => !stopped.Contains(pid)).ToList();
            if (fresh.Count == 0)
                break;
            foreach (var pid in fresh)
            {
                Signals.Send(pid, Signals.SIGSTOP);
                stopped.Add(pid);
            }
        }
        foreach (var pid in seenBefore.Where(pid => ProcessTree.BelongsTo(pid, profile) || stopped.Contains(pid)))
            stopped.Add(pid);
        foreach (var pid in stopped)
            Signals.Send(pid, Signals.SIGKILL);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && stopped.Any(ProcessTree.IsAlive))
            Thread.Sleep(20);
    }

    private static void DeleteProfile(DirectoryInfo profile)
    {
        try
        {
            profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still being released; the folder is in /tmp and named for this fixture.
        }
    }
}

/// <summary>Reads /proc: a process's descendants, and whether a PID is still a live (not zombie) process.</summary>
internal static class ProcessTree
{
    /// <summary><paramref name="root"/>'s live descendants, plus live processes whose command line names <paramref name="marker"/>.</summary>
    public static HashSet<int> Of(int root, string marker)
    {
        var children = new Dictionary<int, List<int>>();
        var found = new HashSet<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
                continue;
            if (ReadStat(pid) is not { } stat || stat.State == 'Z')
                continue;
            if (!children.TryGetValue(stat.Parent, out var list))
                children[stat.Parent] = list = [];
            list.Add(pid);
            if (BelongsTo(pid, marker))
                found.Add(pid);
        }
        var pending = new Queue<int>([root]);
        while (pending.TryDequeue(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                found.Add(child);
                pending.Enqueue(child);
            }
        }
        found.Remove(root);
        if (IsAlive(root))
            found.Add(root);
        return found;
    }

    /// <summary>True when <paramref name="pid"/> runs and is no zombie.</summary>
    public static bool IsAlive(int pid) => ReadStat(pid) is { State: not 'Z' and not 'X' };

    /// <summary>True when <paramref name="pid"/>'s command line names <paramref name="marker"/> (its profile folder).</summary>
    public static bool BelongsTo(int pid, string marker)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(marker, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static (char State, int Parent)? ReadStat(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
