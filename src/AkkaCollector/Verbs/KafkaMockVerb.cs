using System.Globalization;
using System.Runtime.InteropServices;
using AkkaCollector.KafkaMock;

namespace AkkaCollector.Verbs;

/// <summary>The <c>kafka-mock</c> verb: hosts a librdkafka mock cluster and its control port until told to stop.</summary>
/// <remarks>
/// Prints <c>control=127.0.0.1:PORT</c>, then <c>bootstrap=HOST:PORT,...</c> as its readiness signal.
/// Stops on SIGTERM, SIGINT or end of stdin (so a parent that dies takes the mock with it),
/// unless <c>--ignore-stdin</c> is given for runs in the background with stdin at /dev/null.
/// </remarks>
public static class KafkaMockVerb
{
    private const string Usage =
        "usage: kafka-mock [--brokers 3] [--partitions 32] [--topic events] [--control-port 0] [--ignore-stdin]";

    /// <summary>Runs the verb; 0 after a clean stop, 2 for bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        KafkaMockOptions options;
        try
        {
            options = KafkaMockOptions.Parse(args);
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync($"{e.Message}\n{Usage}");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => RequestStop(context, stop));
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => RequestStop(context, stop));

        using var cluster = MockCluster.Start(options.Brokers, options.Topic, options.Partitions);
        await using (var control = MockControlServer.Start(cluster, options.ControlPort))
        {
            Console.Out.WriteLine($"control={control.EndPoint}");
            Console.Out.WriteLine($"bootstrap={cluster.BootstrapServers}");
            Console.Out.Flush();

            var stopped = Task.Delay(Timeout.Infinite, stop.Token);
            await Task.WhenAny(stopped, options.IgnoreStdin ? stopped : DrainStdinAsync(stop.Token));
        }

        return 0;
    }

    private static void RequestStop(PosixSignalContext context, CancellationTokenSource stop)
    {
        // Handle the signal ourselves so the cluster is destroyed before its owning handle.
        context.Cancel = true;
        stop.Cancel();
    }

    private static async Task DrainStdinAsync(CancellationToken stop)
    {
        using var stdin = Console.OpenStandardInput();
        var buffer = new byte[256];
        while (await stdin.ReadAsync(buffer, stop) > 0)
        {
        }
    }
}

/// <summary>Arguments of the <c>kafka-mock</c> verb.</summary>
internal sealed record KafkaMockOptions(int Brokers, int Partitions, string Topic, int ControlPort, bool IgnoreStdin)
{
    internal static KafkaMockOptions Parse(IReadOnlyList<string> args)
    {
        var options = new KafkaMockOptions(3, 32, "events", 0, false);
        for (var i = 0; i < args.Count; i++)
        {
            options = args[i] switch
            {
                "--brokers" => options with { Brokers = Number(args, ++i, 1, 64) },
                "--partitions" => options with { Partitions = Number(args, ++i, 1, 10_000) },
                "--topic" => options with { Topic = Value(args, ++i) },
                "--control-port" => options with { ControlPort = Number(args, ++i, 0, 65535) },
                "--ignore-stdin" => options with { IgnoreStdin = true },
                _ => throw new FormatException($"unknown argument '{args[i]}'"),
            };
        }

        return options;
    }

    private static string Value(IReadOnlyList<string> args, int index) =>
        index < args.Count ? args[index] : throw new FormatException($"'{args[index - 1]}' needs a value");

    private static int Number(IReadOnlyList<string> args, int index, int min, int max)
    {
        var text = Value(args, index);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new FormatException($"'{args[index - 1]}' takes a whole number from {min} to {max}, not '{text}'");
    }
}
