using Microsoft.AspNetCore.Http.HttpResults;

namespace AkkaCollector.Observability;

/// <summary>
/// A self-contained HTML page shipped inside this assembly (no files to deploy beside the binary, nothing fetched from
/// the internet), read once on first use and served with <c>Cache-Control: no-cache</c> so a new build's page is seen.
/// </summary>
public sealed class EmbeddedPage(string resourceName)
{
    private readonly Lazy<byte[]> _bytes = new(() =>
    {
        using var resource = typeof(EmbeddedPage).Assembly.GetManifestResourceStream(resourceName)
                             ?? throw new InvalidOperationException($"The assembly lacks its embedded resource {resourceName}.");
        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>The page as the answer to <paramref name="context"/>'s request.</summary>
    public FileContentHttpResult Serve(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Bytes(_bytes.Value, "text/html; charset=utf-8");
    }
}
