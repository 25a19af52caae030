using System.Globalization;
using System.Text.RegularExpressions;

namespace AkkaCollector;

/// <summary>
/// The units people write in settings: durations as <c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c> (or .NET's
/// <c>00:00:10</c>) and sizes as <c>64KiB</c>, <c>512MiB</c>, <c>1GiB</c> (binary), <c>1GB</c> (decimal) or plain bytes.
/// The same spellings HOCON accepts for durations, so <c>Shutdown:KillWindow=10s</c> means what hocon/shutdown.conf means.
/// </summary>
public static partial class SettingUnits
{
    /// <summary>How a duration setting is described in a failure.</summary>
    public const string DurationHint = "a duration such as 500ms, 10s, 2m, 1h or 00:00:10";

    /// <summary>How a size setting is described in a failure.</summary>
    public const string SizeHint = "a size in bytes, or with a unit such as 64KiB, 512MiB, 1GiB, 1GB";

    /// <summary>Parses a non-negative duration; false for anything else (negative durations mean nothing in a setting).</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var match = NumberWithUnit().Match(text.Trim());
        if (!match.Success)
            return TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        var number = double.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
        double? milliseconds = match.Groups["unit"].Value.ToLowerInvariant() switch
        {
            "ms" => number,
            "s" => number * 1000,
            "m" or "min" => number * 60_000,
            "h" => number * 3_600_000,
            "d" => number * 86_400_000,
            _ => null,
        };
        if (milliseconds is not { } ms || ms > TimeSpan.MaxValue.TotalMilliseconds)
            return false;
        value = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    /// <summary>Parses a non-negative byte count; KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB powers of 1024.</summary>
    public static bool TryParseBytes(string text, out long value)
    {
        value = default;
        var match = NumberWithUnit().Match(text.Trim());
        if (!match.Success)
            return long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);
        var number = double.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
        double? multiplier = match.Groups["unit"].Value.ToLowerInvariant() switch
        {
            "b" => 1,
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            "tb" => 1e12,
            "kib" => 1L << 10,
            "mib" => 1L << 20,
            "gib" => 1L << 30,
            "tib" => 1L << 40,
            _ => null,
        };
        if (multiplier is not { } factor || number * factor >= long.MaxValue)
            return false;
        value = (long)Math.Round(number * factor);
        return true;
    }

    [GeneratedRegex(@"^(?<number>\d+(\.\d+)?)\s*(?<unit>[a-zA-Z]+)$")]
    private static partial Regex NumberWithUnit();
}
