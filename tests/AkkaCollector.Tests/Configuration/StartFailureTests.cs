using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Tests.Configuration;

/// <summary>
/// A start that fails after the actor system is up ends with one line and a code a process manager can act on: a bad
/// setting 78, a port taken in the moment between the listen check and Kestrel's bind 75, anything else 70.
/// </summary>
public sealed class StartFailureTests
{
    [Fact]
    public void Should_name_the_port_a_process_took_after_the_listen_check_with_the_code_a_restart_may_fix()
    {
        var output = new StringWriter();
        // As Kestrel throws it, wrapped by the host when more than one hosted service failed.
        var bind = new IOException("Failed to bind to address http://127.0.0.1:8080: address already in use.",
            new AddressInUseException("Address already in use"));

        var exitCode = StartFailure.Report(new AggregateException(bind), output);

        Assert.Equal(ListenAddresses.PortTakenExitCode, exitCode);
        Assert.Equal("Cannot listen: Failed to bind to address http://127.0.0.1:8080: address already in use." + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void Should_name_each_setting_an_options_class_refused_at_start()
    {
        var output = new StringWriter();
        var invalid = new OptionsValidationException("Spool", typeof(object), ["Spool:Partitions = '0': out of range", "Spool:MaxBytes = '1': too small"]);

        var exitCode = StartFailure.Report(new InvalidOperationException("start failed", invalid), output);

        Assert.Equal(ConfigurationValidation.InvalidConfigurationExitCode, exitCode);
        Assert.Equal(["Invalid configuration: Spool:Partitions = '0': out of range", "Invalid configuration: Spool:MaxBytes = '1': too small"],
            output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Should_say_any_other_cause_on_one_line()
    {
        var output = new StringWriter();

        var exitCode = StartFailure.Report(new InvalidOperationException($"Unable to configure HTTPS endpoint.{Environment.NewLine}See the docs."), output);

        Assert.Equal(StartFailure.ExitCode, exitCode);
        Assert.Equal("Cannot start: Unable to configure HTTPS endpoint. See the docs." + Environment.NewLine, output.ToString());
    }
}
