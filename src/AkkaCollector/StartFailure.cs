using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace AkkaCollector;

/// <summary>
/// A start that failed inside the host's start, after every check that can run before it (building the actor system
/// threw, Kestrel could not bind or could not configure an endpoint, a hosted service refused). What did start is
/// stopped in the shutdown's order, and the cause is named in one line on stderr; the host has already logged the
/// exception whole. Left to the host, the exception escaped <c>Main</c>: the service provider was disposed under the
/// running actor system (shutdown's Kafka flush then failed on a destroyed handle), the drain-delay waited for a server
/// that never listened, and the runtime aborted (exit 134) after printing the stack trace a second time.
/// </summary>
public static class StartFailure
{
    /// <summary>Exit code of a start that failed for a reason that is neither a setting nor a taken port (sysexits' EX_SOFTWARE).</summary>
    public const int ExitCode = 70;

    /// <summary>Stops and disposes <paramref name="app"/> after its start threw <paramref name="error"/>; returns the exit code.</summary>
    public static async Task<int> StopAsync(WebApplication app, Exception error, TextWriter output)
    {
        try
        {
            await app.StopAsync();
        }
        catch (Exception stopping)
        {
            // The host cannot stop what it never built (its hosted services fail to resolve when the actor system's
            // own construction throws); what was built is disposed below all the same.
            app.Logger.LogWarning("Stopping after the failed start failed too: {Reason}", stopping.Message);
        }
        await app.DisposeAsync();
        return Report(error, output);
    }

    /// <summary>
    /// One line for <paramref name="error"/>: a setting the options classes refused (exit 78), a port taken between the
    /// listen check and Kestrel's bind (exit 75, as <see cref="ListenAddresses"/> says it), or anything else (exit 70).
    /// </summary>
    public static int Report(Exception error, TextWriter output)
    {
        var chain = Chain(error).ToList();
        if (chain.OfType<OptionsValidationException>().FirstOrDefault() is { } invalid)
            return ConfigurationValidation.Refuse(invalid.Failures, output);
        if (chain.FirstOrDefault(cause => cause.InnerException is AddressInUseException) is { } taken)
        {
            output.WriteLine($"Cannot listen: {taken.Message}");
            return ListenAddresses.PortTakenExitCode;
        }
        output.WriteLine($"Cannot start: {error.Message.ReplaceLineEndings(" ")}");
        return ExitCode;
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        yield return error;
        var causes = error is AggregateException aggregate ? aggregate.InnerExceptions : error.InnerException is { } inner ? [inner] : [];
        foreach (var cause in causes.SelectMany(Chain))
            yield return cause;
    }
}
