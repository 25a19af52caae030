using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AkkaCollector;

/// <summary>
/// Binds an options class to its configuration section and validates it when the host starts, so a bad setting
/// stops the collector before it listens, with a message that names the setting as an operator writes it.
/// </summary>
public static class ConfigurationValidation
{
    /// <summary>Exit code of a collector that refused to start over its configuration (sysexits' EX_CONFIG).</summary>
    public const int InvalidConfigurationExitCode = 78;

    /// <summary>Binds <typeparamref name="T"/> to <paramref name="section"/>; its DataAnnotations are checked at start, failures named <c>Section:Member</c>.</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new NamedSettingValidator<T>(section));
        return services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }

    /// <summary>
    /// Fail fast and legibly: one line per bad setting, no stack trace; returns the exit code process managers can tell
    /// apart from a crash.
    /// </summary>
    public static int Refuse(IEnumerable<string> failures, TextWriter error)
    {
        foreach (var failure in failures)
            error.WriteLine($"Invalid configuration: {failure}");
        return InvalidConfigurationExitCode;
    }

    /// <summary>DataAnnotations with the configuration key and the value that broke the rule in every message.</summary>
    private sealed class NamedSettingValidator<T>(string section) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var results = new List<ValidationResult>();
            if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
                return ValidateOptionsResult.Success;
            return ValidateOptionsResult.Fail(results.SelectMany(result => result.MemberNames.Select(member =>
                $"{section}:{member} = '{typeof(T).GetProperty(member)?.GetValue(options)}': {result.ErrorMessage}")));
        }
    }
}
