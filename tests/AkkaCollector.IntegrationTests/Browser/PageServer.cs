using System.Collections.Concurrent;
using AkkaCollector.Testing.Repository;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace AkkaCollector.IntegrationTests.Browser;

/// <summary>
/// A web site on another origin than the collector's (its own port on 127.0.0.1): the test pages, and the SDKs exactly
/// as npm installed them under /sdk/ (from tests/AkkaCollector.IntegrationTests/Browser/node_modules).
/// </summary>
public sealed class PageServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _pages = new(StringComparer.Ordinal);

    private PageServer(WebApplication app, string origin, ConcurrentDictionary<string, string> pages) =>
        (_app, Origin, _pages) = (app, origin, pages);

    /// <summary>The folder npm installs the SDKs into.</summary>
    public static string SdkFolder => Path.Combine(RepositoryPaths.Root, "tests", "AkkaCollector.IntegrationTests", "Browser", "node_modules");

    /// <summary>http://127.0.0.1:PORT, the page's origin.</summary>
    public string Origin { get; }

    /// <summary>Fails, saying how to install them, when the SDKs are not installed: a browser test never passes without its SDK.</summary>
    public static void RequireSdks()
    {
        string[] needed = ["@segment/analytics-next/dist/umd/index.js", "@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js", "@segment/analytics-node/package.json"];
        var missing = needed.Where(file => !File.Exists(Path.Combine(SdkFolder, file))).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"The browser SDKs are not installed ({string.Join(", ", missing)} missing under {SdkFolder}). " +
                "Run: npm ci --prefix tests/AkkaCollector.IntegrationTests/Browser (bash .ci/run does it).");
    }

    public static async Task<PageServer> StartAsync()
    {
        RequireSdks();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var pages = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(SdkFolder),
            RequestPath = "/sdk",
            ServeUnknownFileTypes = true,
        });
        // One segment only: a route matching /sdk/... too would keep the static files from being served.
        app.MapGet("/{page}", (string page) =>
            pages.TryGetValue("/" + page, out var html) ? Results.Content(html, "text/html; charset=utf-8") : Results.NotFound());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new PageServer(app, address.TrimEnd('/'), pages);
    }

    /// <summary>Serves <paramref name="html"/> at <paramref name="path"/> (one segment: "/shop") and returns its URL.</summary>
    public string Add(string path, string html)
    {
        _pages[path] = html;
        return Origin + path;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
