using System.Globalization;

namespace AkkaCollector.Rig;

/// <summary>The options of one verb: <c>--name value</c> pairs, <c>--flag</c> switches and positional words; unknown names are errors.</summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    /// <param name="args">The verb's arguments.</param>
    /// <param name="valued">Option names that take a value.</param>
    /// <param name="flags">Option names that are switches.</param>
    public CommandLine(IReadOnlyList<string> args, IReadOnlyCollection<string> valued, IReadOnlyCollection<string> flags)
    {
        var positional = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }
            var name = arg[2..];
            if (flags.Contains(name))
                _flags.Add(name);
            else if (valued.Contains(name))
                _values[name] = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"--{name} needs a value.");
            else
                throw new ArgumentException($"Unknown option --{name}. Known: {string.Join(", ", valued.Concat(flags).Select(n => "--" + n))}.");
        }
        Positional = positional;
    }

    /// <summary>Arguments that are not options, in order.</summary>
    public IReadOnlyList<string> Positional { get; }

    public bool Has(string flag) => _flags.Contains(flag);

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public long Long(string name, long fallback) =>
        _values.TryGetValue(name, out var text) ? long.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A duration as <c>90s</c>, <c>2m</c>, <c>500ms</c> or a .NET TimeSpan (<c>00:01:30</c>).</summary>
    public TimeSpan? Duration(string name) => _values.TryGetValue(name, out var text) ? ParseDuration(text) : null;

    /// <summary>Parses <c>90s</c>, <c>2m</c>, <c>1h</c>, <c>500ms</c> or <c>hh:mm:ss</c>.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        text = text.Trim();
        (string Suffix, Func<double, TimeSpan> Make)[] units =
            [("ms", TimeSpan.FromMilliseconds), ("s", TimeSpan.FromSeconds), ("m", TimeSpan.FromMinutes), ("h", TimeSpan.FromHours)];
        foreach (var (suffix, make) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) &&
                double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
                return make(amount);
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span)
            ? span
            : throw new FormatException($"'{text}' is not a duration (e.g. 90s, 2m, 500ms, 00:01:30).");
    }
}
