namespace AkkaCollector.IntegrationTests.Browser;

/// <summary>The browser fixture stops every process chromium started, those that came after the launch included.</summary>
public sealed class HeadlessBrowserTests
{
    [Fact]
    public async Task Should_leave_no_chromium_process_behind_renderers_started_late_included()
    {
        var browser = await HeadlessBrowser.LaunchAsync();
        IReadOnlyList<int> atLaunch, withPages;
        try
        {
            atLaunch = browser.Processes();
            // Each page of a new site gets a renderer forked after the launch, by the zygote, not by the browser.
            var first = await browser.NewPageAsync();
            await first.Page.GoToAsync("data:text/html,<h1>one</h1>");
            var second = await browser.NewPageAsync();
            await second.Page.GoToAsync("data:text/html,<h1>two</h1>");
            withPages = browser.Processes();
        }
        finally
        {
            await browser.DisposeAsync();
        }

        Assert.Contains(browser.Pid, atLaunch);
        Assert.True(withPages.Except(atLaunch).Any(), $"no process started after the launch: at launch {string.Join(",", atLaunch)}, with pages {string.Join(",", withPages)}");
        var alive = withPages.Concat(atLaunch).Distinct().Where(ProcessTree.IsAlive).ToList();
        Assert.True(alive.Count == 0, $"still running after dispose: {string.Join(", ", alive.Select(pid => $"{pid} {Command(pid)}"))}");
    }

    private static string Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "(gone)";
        }
    }
}
