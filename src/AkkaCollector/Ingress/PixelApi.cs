using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AkkaCollector.Ingress;

/// <summary>
/// Segment's pixel API, <c>GET /v1/pixel/{track|identify|page|screen|group|alias}</c>, for email opens and pages without
/// JavaScript: the event comes in the query, either as <c>data=</c> base64 of its JSON (standard or URL-safe alphabet,
/// padding optional; plain JSON is taken too) or as one parameter per field (<c>userId=u1&amp;event=Opened&amp;properties.subject=Hi</c>,
/// dots nest, every value a string). The write key is the JSON's <c>writeKey</c> or a <c>writeKey</c> parameter.
/// The event then goes the way of any other (same parsing, limits, lookups, journal before the answer), but the answer
/// is always 200 with a 1×1 transparent GIF and <c>Cache-Control: no-store</c>: an image cannot show an error, so a
/// refused event is only counted, by its cause, under the route's label with status 200.
/// </summary>
public static class PixelApi
{
    /// <summary>A 1×1 transparent GIF (GIF89a, one transparent colour), 43 bytes.</summary>
    public static readonly byte[] TransparentGif = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    /// <summary>The event the query describes, as a JSON body in pooled memory, or why there is none.</summary>
    public static OrError<RequestBody> ReadEvent(IQueryCollection query, int limit)
    {
        byte[] json;
        if (query.TryGetValue("data", out var data))
        {
            if (data.Count != 1 || !TryDecodeData(data.ToString(), out json))
                return IngressError.BadRequest("data must be base64 of the event's JSON (or the JSON itself)", "data");
        }
        else if (!TryBuildFromParameters(query, out json, out var error))
        {
            return error;
        }
        if (json.Length > limit)
            return IngressError.TooLarge($"the event exceeds {limit} bytes", "data");
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(json.Length, 1));
        json.CopyTo(buffer, 0);
        return new RequestBody(buffer, json.Length);
    }

    /// <summary>The <c>writeKey</c> parameter, used when the event's JSON has none.</summary>
    public static string? WriteKeyParameter(IQueryCollection query) =>
        query.TryGetValue("writeKey", out var key) && key.Count == 1 ? key.ToString() : null;

    private static bool TryDecodeData(string data, out byte[] json)
    {
        json = [];
        var text = data.Trim();
        if (text.StartsWith('{'))
        {
            json = Encoding.UTF8.GetBytes(text);
            return true;
        }
        // A '+' the sender did not percent-encode arrives as a space; the URL-safe alphabet uses - and _.
        var standard = new StringBuilder(text.Length + 3).Append(text).Replace(' ', '+').Replace('-', '+').Replace('_', '/');
        standard.Append('=', (4 - standard.Length % 4) % 4);
        try
        {
            json = Convert.FromBase64String(standard.ToString());
        }
        catch (FormatException)
        {
            return false;
        }
        return json.AsSpan().TrimStart(" \t\r\n"u8).StartsWith("{"u8);
    }

    private static bool TryBuildFromParameters(IQueryCollection query, out byte[] json, out IngressError error)
    {
        json = [];
        error = null!;
        if (query.Count == 0)
        {
            error = IngressError.BadRequest("the pixel carries no event: send data=<base64 of the event's JSON> or its fields as parameters", "data");
            return false;
        }
        var root = new JsonObject();
        foreach (var (key, values) in query)
        {
            if (key == "writeKey" || values.Count != 1)
                continue;
            var path = key.Split('.');
            if (path.Any(string.IsNullOrEmpty))
            {
                error = IngressError.BadRequest($"parameter '{key}' has an empty name", key);
                return false;
            }
            var node = root;
            for (var i = 0; i < path.Length - 1; i++)
            {
                node[path[i]] ??= new JsonObject();
                if (node[path[i]] is not JsonObject child)
                {
                    error = IngressError.BadRequest($"parameter {key} nests under {path[i]}, which is a value", key);
                    return false;
                }
                node = child;
            }
            if (node.ContainsKey(path[^1]))
            {
                error = IngressError.BadRequest($"parameter {key} is given twice, or both as a value and as an object", key);
                return false;
            }
            node[path[^1]] = values.ToString();
        }
        json = JsonSerializer.SerializeToUtf8Bytes(root, PixelJsonContext.Default.JsonObject);
        return true;
    }
}

/// <summary>Source-generated serializer for the pixel's parameter form.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class PixelJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
