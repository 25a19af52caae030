using System.Globalization;

namespace AkkaCollector.Rig.Metrics;

/// <summary>One sample of Prometheus' text exposition format: a metric name, its labels, a value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.GetValueOrDefault(name, "");
}

/// <summary>Reads the text exposition format (what /metrics serves): comments skipped, labels unescaped.</summary>
public static class PrometheusText
{
    /// <summary>The samples of <paramref name="text"/> whose metric name starts with <paramref name="prefix"/>.</summary>
    public static IEnumerable<PrometheusSample> Parse(string text, string prefix = "")
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var labelsStart = line.IndexOf('{');
            var valueStart = line.LastIndexOf(' ');
            if (valueStart < 0 || !double.TryParse(line[(valueStart + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                continue;
            if (labelsStart < 0 || labelsStart > valueStart)
            {
                yield return new PrometheusSample(line[..valueStart].Trim(), new Dictionary<string, string>(), value);
                continue;
            }
            var labelsEnd = line.LastIndexOf('}', valueStart);
            yield return new PrometheusSample(line[..labelsStart], ParseLabels(line[(labelsStart + 1)..labelsEnd]), value);
        }
    }

    private static Dictionary<string, string> ParseLabels(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (i < text.Length)
        {
            var equals = text.IndexOf('=', i);
            if (equals < 0)
                break;
            var name = text[i..equals].Trim(' ', ',');
            var value = new System.Text.StringBuilder();
            var j = equals + 2; // past ="
            for (; j < text.Length && text[j] != '"'; j++)
            {
                if (text[j] == '\\' && j + 1 < text.Length)
                {
                    j++;
                    value.Append(text[j] == 'n' ? '\n' : text[j]);
                }
                else
                {
                    value.Append(text[j]);
                }
            }
            labels[name] = value.ToString();
            i = j + 1;
        }
        return labels;
    }
}
