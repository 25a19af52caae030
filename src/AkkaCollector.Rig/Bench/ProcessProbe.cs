using System.Globalization;

namespace AkkaCollector.Rig.Bench;

/// <summary>
/// Reads what Linux knows about one process this rig started: CPU time (utime + stime from /proc/PID/stat) and peak
/// resident memory (VmHWM), which it can reset (clear_refs) so that each phase of a benchmark has its own peak.
/// </summary>
public sealed class ProcessProbe(int pid)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on.

    public int Pid { get; } = pid;

    /// <summary>User plus system CPU time so far, or null when the process is gone.</summary>
    public TimeSpan? CpuTime()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{Pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / TicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Peak resident set size in bytes since start or the last <see cref="ResetPeak"/>, or null when the process is gone.</summary>
    public long? PeakRssBytes() => StatusKilobytes("VmHWM:") * 1024;

    /// <summary>Resident set size now, in bytes.</summary>
    public long? RssBytes() => StatusKilobytes("VmRSS:") * 1024;

    /// <summary>Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux 4.0+); false when not allowed.</summary>
    public bool ResetPeak()
    {
        try
        {
            File.WriteAllText($"/proc/{Pid}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The 1-minute load average of the machine.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private long? StatusKilobytes(string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{Pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
