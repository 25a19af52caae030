using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace AkkaCollector.Spooling;

/// <summary>Who this collector is (.NET configuration section "Collector"): the name its spools are journaled under.</summary>
public sealed partial class InstanceOptions
{
    public const string Section = "Collector";

    /// <summary>
    /// This collector's name in the spool's persistence ids (<c>spool-INSTANCE-N</c>). Collectors sharing one PostgreSQL
    /// spool need distinct ids; a collector started again under the same id gets its spools back. The default, the host
    /// name, suits a StatefulSet (pod names are stable) and a VM; a container whose host name changes on every start
    /// should set it (its old spools are still delivered, but as someone else's).
    /// </summary>
    [RegularExpression(Pattern, ErrorMessage = "Collector:InstanceId must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit")]
    public string InstanceId { get; set; } = Environment.MachineName;

    /// <summary>The operator profile; read by CollectorProfile before anything binds, listed here so the settings check knows it.</summary>
    public string? Profile { get; set; }

    private const string Pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$";

    public static bool IsValidInstanceId(string value) => InstanceIdPattern().IsMatch(value);

    [GeneratedRegex(Pattern)]
    private static partial Regex InstanceIdPattern();
}
