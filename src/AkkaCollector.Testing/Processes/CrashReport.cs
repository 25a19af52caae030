using System.Text;
using System.Text.Json;

namespace AkkaCollector.Testing.Processes;

/// <summary>
/// The .NET runtime's own report of a native crash (SIGSEGV, SIGABRT; not SIGKILL): the runtime writes it, from a
/// helper process, before the crashed process exits. Every collector a test or the rig starts asks for one (the JSON
/// only, no dump), so that a crash seen once on a loaded CI machine names the thread and the frames it happened in:
/// CI once saw a collector exit 139 during a shutdown, and its output did not say where.
/// </summary>
public static class CrashReport
{
    // Enough frames to pass the library that crashed and reach the code that called it.
    private const int FramesShown = 24;

    /// <summary>The runtime's settings that write a crashed process's report into <paramref name="folder"/>, named by its PID.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Settings(string folder) =>
    [
        new("DOTNET_DbgEnableMiniDump", "1"),
        new("DOTNET_EnableCrashReportOnly", "1"),
        new("DOTNET_DbgMiniDumpName", Path.Combine(folder, "crash-%p")),
    ];

    /// <summary>
    /// The crashed thread's frames from the report the process <paramref name="pid"/> left in <paramref name="folder"/>,
    /// innermost first, one line each; null when it left none (it did not crash).
    /// </summary>
    public static string? Read(string folder, int pid)
    {
        var file = Path.Combine(folder, $"crash-{pid}.crashreport.json");
        if (!File.Exists(file))
            return null;
        try
        {
            using var report = JsonDocument.Parse(File.ReadAllBytes(file));
            return Summary(file, report);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // A process SIGKILLed while the runtime still wrote its report leaves it cut short: say so rather than
            // throw from the stop whose failure the report was meant to explain.
            return $"{file}: not a complete crash report ({e.Message})";
        }
    }

    private static string Summary(string file, JsonDocument report)
    {
        var threads = report.RootElement.GetProperty("payload").GetProperty("threads").EnumerateArray();
        var crashed = threads.FirstOrDefault(thread => thread.TryGetProperty("crashed", out var flag) && flag.GetString() == "true");
        if (crashed.ValueKind != JsonValueKind.Object)
            return $"{file}: no thread is marked as the crashed one";

        var text = new StringBuilder($"crash report {file}, crashed thread {Text(crashed, "native_thread_id")}");
        if (Text(crashed, "managed_exception_type") is { Length: > 0 } exception)
            text.Append($" (managed exception {exception})");
        foreach (var frame in crashed.GetProperty("stack_frames").EnumerateArray().Take(FramesShown))
            text.Append("\n  ").Append(Frame(frame));
        return text.ToString();
    }

    // A managed frame by its method; a native one by its library and symbol, or its offset in the library when the
    // library exports no name for it (librdkafka's and SQLite's own functions are mostly static).
    private static string Frame(JsonElement frame) =>
        Text(frame, "is_managed") == "true"
            ? Text(frame, "method_name") ?? "(managed, unnamed)"
            : $"{Text(frame, "native_module") ?? "?"}!{Text(frame, "unmanaged_name") ?? "+" + Text(frame, "native_image_offset")}";

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
