using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AkkaCollector;

/// <summary>
/// The operator's token (<c>Shutdown:AdminToken</c>) as the admin routes check it: <c>Authorization: Bearer TOKEN</c>,
/// compared in constant time so an answer's timing does not reveal how much of a guessed token was right.
/// </summary>
public sealed class AdminToken(string token)
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes(token);

    /// <summary>True when <paramref name="request"/> carries the token as a bearer token.</summary>
    public bool Admits(HttpRequest request)
    {
        const string scheme = "Bearer ";
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
               && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), _expected);
    }

    /// <summary>The 401 of an admin route: JSON like every other error, with the scheme to use.</summary>
    public static JsonHttpResult<ErrorAnswer> Refused(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Json(new ErrorAnswer("a valid bearer token is required", "Authorization"), statusCode: StatusCodes.Status401Unauthorized);
    }
}
