using AkkaCollector.Testing.Kafka;

namespace AkkaCollector.Testing.Processes;

/// <summary>The collector's <c>kafka-mock</c> verb as a child process: a mock cluster that outlives any one client and can be driven over its control port.</summary>
public sealed class KafkaMockProcess : IAsyncDisposable
{
    private const string ControlPrefix = "control=";
    private const string BootstrapPrefix = "bootstrap=";
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private KafkaMockProcess(ChildProcess process, string bootstrapServers, MockControlClient control)
    {
        Process = process;
        BootstrapServers = bootstrapServers;
        Control = control;
    }

    /// <summary>The running verb (PID, output, signals).</summary>
    public ChildProcess Process { get; }

    /// <summary>Bootstrap servers of the mock cluster.</summary>
    public string BootstrapServers { get; }

    /// <summary>A connected client for the mock's control port.</summary>
    public MockControlClient Control { get; }

    /// <summary>Starts the verb and returns once it has printed its bootstrap servers and answers on its control port.</summary>
    public static async Task<KafkaMockProcess> StartAsync(int brokers = 3, int partitions = 32, string topic = "events", TimeSpan? startTimeout = null)
    {
        var timeout = startTimeout ?? TimeSpan.FromSeconds(30);
        var process = ChildProcess.StartDotnet(CollectorBinary.Path,
            ["kafka-mock", "--brokers", $"{brokers}", "--partitions", $"{partitions}", "--topic", topic]);
        try
        {
            var control = await process.WaitForLineAsync(line => line.StartsWith(ControlPrefix, StringComparison.Ordinal), timeout);
            var bootstrap = await process.WaitForLineAsync(line => line.StartsWith(BootstrapPrefix, StringComparison.Ordinal), timeout);
            var client = await MockControlClient.ConnectAsync(control[ControlPrefix.Length..]);
            return new KafkaMockProcess(process, bootstrap[BootstrapPrefix.Length..], client);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>Closes the control connection and stops the verb with SIGTERM, then SIGKILL if it does not exit in time; the process goes whatever throws.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Control.DisposeAsync();
            if (!Process.HasExited && Process.SendSignal(Signals.SIGTERM))
                await Process.WaitForExitAsync(StopTimeout);
        }
        catch (TimeoutException)
        {
            // Dispose below kills it by PID.
        }
        finally
        {
            Process.Dispose();
        }
    }
}
