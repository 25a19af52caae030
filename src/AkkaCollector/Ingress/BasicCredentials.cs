using System.Text;

namespace AkkaCollector.Ingress;

/// <summary>HTTP Basic credentials, where Segment's SDKs send the write key as the username.</summary>
public static class BasicCredentials
{
    /// <summary>Credentials up to this many base64 characters are decoded on the stack.</summary>
    private const int MaxStackCredentialsChars = 512;

    /// <summary>
    /// The username of HTTP Basic credentials, where Segment's SDKs send the write key (with an empty password): null
    /// when there is no Basic header or its username is empty; false when the header is Basic but not valid base64.
    /// </summary>
    public static bool TryReadUsername(string? authorization, out string? username)
    {
        const string basic = "Basic ";
        username = null;
        if (authorization is null || !authorization.StartsWith(basic, StringComparison.OrdinalIgnoreCase))
            return true;
        // Decoded in a span and only the username made a string: the header comes with every request.
        var encoded = authorization.AsSpan(basic.Length).Trim();
        var credentials = encoded.Length <= MaxStackCredentialsChars ? stackalloc byte[MaxStackCredentialsChars * 3 / 4] : new byte[encoded.Length * 3 / 4];
        if (!Convert.TryFromBase64Chars(encoded, credentials, out var length))
            return false;
        var colon = credentials[..length].IndexOf((byte)':');
        var name = credentials[..(colon < 0 ? length : colon)];
        username = name.Length > 0 ? Encoding.UTF8.GetString(name) : null;
        return true;
    }
}
