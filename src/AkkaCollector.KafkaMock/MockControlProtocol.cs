using System.Globalization;
using System.Net;
using Confluent.Kafka;

namespace AkkaCollector.KafkaMock;

/// <summary>The line protocol of the mock cluster's loopback control port: one command per line, one answer per line.</summary>
/// <remarks>
/// Commands: <c>ping</c>, <c>bootstrap</c>, <c>down all|N</c>, <c>up all|N</c>, <c>rtt all|N MS</c>,
/// <c>errors API CODE[,CODE...]</c>, <c>clear API</c>, <c>hostport N HOST PORT</c>, <c>leader TOPIC PARTITION N</c>.
/// API is a Kafka API key by name or number (<see cref="KafkaApiKey"/>); CODE a Kafka error code by
/// number or by Confluent.Kafka <see cref="ErrorCode"/> name. Answers are <c>ok</c> (or <c>ok VALUE</c>) or <c>error: REASON</c>.
/// Text, so an operator can drive a running mock with <c>nc 127.0.0.1 PORT</c>.
/// </remarks>
public static class MockControlProtocol
{
    public const string Ping = "ping";
    public const string Bootstrap = "bootstrap";
    public const string Down = "down";
    public const string Up = "up";
    public const string Rtt = "rtt";
    public const string Errors = "errors";
    public const string Clear = "clear";
    public const string HostPort = "hostport";
    public const string Leader = "leader";
    public const string Ok = "ok";
    public const string ErrorPrefix = "error: ";
    private const string All = "all";

    private const string Usage =
        "commands: ping | bootstrap | down all|N | up all|N | rtt all|N MS | errors API CODE[,CODE...] | clear API | hostport N HOST PORT | leader TOPIC PARTITION N";

    /// <summary>Runs one command line against <paramref name="cluster"/> and returns the answer line.</summary>
    public static string Execute(MockCluster cluster, string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
            return ErrorPrefix + "empty command; " + Usage;
        try
        {
            return Run(cluster, words);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or ObjectDisposedException)
        {
            return ErrorPrefix + e.Message.ReplaceLineEndings(" ");
        }
    }

    /// <summary>Reads an address written as HOST:PORT (as the kafka-mock verb prints its control address).</summary>
    public static IPEndPoint ParseEndPoint(string address) =>
        IPEndPoint.TryParse(address.Trim(), out var endPoint) && endPoint.Port != 0
            ? endPoint
            : throw new FormatException($"'{address}' is not an IP:PORT address.");

    public static string FormatBroker(int brokerId) =>
        brokerId == MockCluster.AllBrokers ? All : brokerId.ToString(CultureInfo.InvariantCulture);

    private static string Run(MockCluster cluster, string[] w)
    {
        switch (w[0].ToLowerInvariant())
        {
            case Ping:
                Arity(w, 1);
                return Ok;
            case Bootstrap:
                Arity(w, 1);
                return $"{Ok} {cluster.BootstrapServers}";
            case Down:
                Arity(w, 2);
                cluster.SetBrokerDown(ParseBroker(w[1]));
                return Ok;
            case Up:
                Arity(w, 2);
                cluster.SetBrokerUp(ParseBroker(w[1]));
                return Ok;
            case Rtt:
                Arity(w, 3);
                var broker = ParseBroker(w[1]);
                cluster.SetRoundTripTime(broker, ParseInt(w[2], "milliseconds"));
                return Ok;
            case Errors:
                Arity(w, 3);
                cluster.PushRequestErrors(KafkaApiKey.Parse(w[1]), w[2].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParseErrorCode).ToArray());
                return Ok;
            case Clear:
                Arity(w, 2);
                cluster.ClearRequestErrors(KafkaApiKey.Parse(w[1]));
                return Ok;
            case HostPort:
                Arity(w, 4);
                cluster.SetBrokerHostPort(ParseBroker(w[1]), w[2], ParseInt(w[3], "port"));
                return Ok;
            case Leader:
                Arity(w, 4);
                cluster.SetPartitionLeader(w[1], ParseInt(w[2], "partition"), ParseBroker(w[3]));
                return Ok;
            default:
                return $"{ErrorPrefix}unknown command '{w[0]}'; {Usage}";
        }
    }

    private static void Arity(string[] words, int expected)
    {
        if (words.Length != expected)
            throw new FormatException($"'{words[0]}' takes {expected - 1} argument(s), got {words.Length - 1}; {Usage}");
    }

    private static int ParseBroker(string text) =>
        string.Equals(text, All, StringComparison.OrdinalIgnoreCase) ? MockCluster.AllBrokers : ParseInt(text, "broker id");

    private static int ParseInt(string text, string what) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"'{text}' is not a valid {what}.");

    private static int ParseErrorCode(string text) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code) ? code
        : Enum.TryParse<ErrorCode>(text, ignoreCase: true, out var named) ? (int)named
        : throw new FormatException($"'{text}' is not a Kafka error code (a number or a Confluent.Kafka ErrorCode name).");
}
