using AkkaCollector.Testing.Redis;
using StackExchange.Redis;
using Xunit.Sdk;

namespace AkkaCollector.IntegrationTests.Lookups;

/// <summary>
/// The check every Redis test ends with (<see cref="LookupsHarness.AssertOnlyFastBoundedCommands"/>) must fail for the
/// story's kind of command: one that holds Redis for a call-timeout, and one whose every call costs milliseconds.
/// </summary>
[Collection(RedisLookupsCollection.Name)]
public sealed class StallCheckTests : IDisposable
{
    // Busy-waits inside Redis for ARGV[1] microseconds: a command whose cost is its own work, not the machine's.
    // StackExchange.Redis sends it as EVAL once, then as EVALSHA: 1 200 runs make over 1 000 calls of one command.
    private const string Work = """
        local start = redis.call('TIME')
        repeat
          local now = redis.call('TIME')
        until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) >= tonumber(ARGV[1])
        return 0
        """;

    private readonly RedisServerProcess _redis = RedisServerProcess.Start();

    [Fact]
    public void Should_fail_a_command_that_holds_redis_for_a_call_timeout()
    {
        Run(times: 1, micros: (long)LookupsHarness.CallTimeout.TotalMicroseconds + 50_000);

        Assert.Throws<DoesNotContainException>(() => LookupsHarness.AssertOnlyFastBoundedCommands(_redis));
    }

    [Fact]
    public void Should_fail_a_command_whose_every_call_costs_milliseconds()
    {
        Run(times: 1200, micros: 1_500);

        Assert.Throws<DoesNotContainException>(() => LookupsHarness.AssertOnlyFastBoundedCommands(_redis));
    }

    [Fact]
    public void Should_pass_many_cheap_commands()
    {
        Run(times: 1200, micros: 10);

        LookupsHarness.AssertOnlyFastBoundedCommands(_redis);
    }

    private void Run(int times, long micros)
    {
        using var connection = ConnectionMultiplexer.Connect(_redis.EndPoint);
        var database = connection.GetDatabase();
        for (var i = 0; i < times; i++)
            database.ScriptEvaluate(Work, values: [micros]);
    }

    public void Dispose() => _redis.Dispose();
}
