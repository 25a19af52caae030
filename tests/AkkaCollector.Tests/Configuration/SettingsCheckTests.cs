using Akka.Configuration;
using AkkaCollector.Ingress;
using AkkaCollector.LiveEvents;
using AkkaCollector.Lookups;
using AkkaCollector.Publishing;
using AkkaCollector.Shutdown;
using AkkaCollector.Spooling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCollector.Tests.Configuration;

/// <summary>
/// Every settings section refuses a bad value before anything starts, with a line that names the setting: types and
/// units by <see cref="SettingsCheck"/>, ranges by the options classes, exactly as the collector checks them at start.
/// </summary>
public sealed class SettingsCheckTests
{
    [Theory]
    // Type, unit and unknown-key failures, one or more per section.
    [InlineData("Spool:MaxBytes", "abc", "Spool:MaxBytes = 'abc': not a size")]
    [InlineData("Spool:TruncationInterval", "soon", "Spool:TruncationInterval = 'soon': not a duration")]
    [InlineData("Spool:MaxByte", "1", "Spool:MaxByte is not a setting")]
    [InlineData("Spool:Partitions", "two", "Spool:Partitions = 'two': not a whole number")]
    [InlineData("Kafka:LingerMs", "5ms", "Kafka:LingerMs = '5ms': not a whole number")]
    [InlineData("Ingress:MaxRequestBytes", "3GiB", "Ingress:MaxRequestBytes = '3GiB': at most")]
    [InlineData("Shutdown:KillWindow", "ten seconds", "Shutdown:KillWindow = 'ten seconds': not a duration")]
    [InlineData("Shutdown:DrainDelay", "-1s", "Shutdown:DrainDelay = '-1s': not a duration")]
    [InlineData("Redis:ConnectTimeout", "1 sec", "Redis:ConnectTimeout = '1 sec': not a duration")]
    [InlineData("RateLimit:PerWriteKey:Rate", "fast", "RateLimit:PerWriteKey:Rate = 'fast': not a number")]
    [InlineData("AppRegistry:Enabled", "yes", "AppRegistry:Enabled = 'yes': not true or false")]
    [InlineData("Geo:ReloadCheckInterval", "often", "Geo:ReloadCheckInterval = 'often': not a duration")]
    [InlineData("LiveEvents:Enabled", "maybe", "LiveEvents:Enabled = 'maybe': not true or false")]
    [InlineData("Logging:Format", "xml", "Logging:Format = 'xml': must be simple or json")]
    [InlineData("Logging:LogLevel:Default", "Loud", "Logging:LogLevel:Default = 'Loud': not a log level")]
    [InlineData("Logging:Console:LogLevel:Akka", "verbose", "Logging:Console:LogLevel:Akka = 'verbose': not a log level")]
    [InlineData("urls", "http://127.0.0.1:notaport", "urls = 'http://127.0.0.1:notaport': the port must be a number")]
    [InlineData("urls", "http://collector.internal:8080", "urls = 'http://collector.internal:8080': the host 'collector.internal' is not an IP address")]
    [InlineData("urls", "127.0.0.1:8080", "urls = '127.0.0.1:8080': not a listen address")]
    [InlineData("Kestrel:Limits:MaxConcurrentConnections", "1000", "Kestrel:Limits is not read from configuration")]
    // Range and rule failures, from the options classes.
    [InlineData("Spool:Partitions", "0", "Spool:Partitions = '0'")]
    [InlineData("Spool:Provider", "postgresql", "Spool:ConnectionString is required")]
    [InlineData("Kafka:Compression", "brotli", "Kafka:Compression = 'brotli'")]
    [InlineData("Kafka:Topic", "page views", "Kafka:Topic = 'page views': not a Kafka topic name")]
    [InlineData("Kafka:Topic", "..", "Kafka:Topic = '..': not a Kafka topic name")]
    [InlineData("Kafka:MockPort", "70000", "Kafka:MockPort = '70000'")]
    [InlineData("Kafka:BootstrapServers", "kafka-1:90922", "Kafka:BootstrapServers = 'kafka-1:90922': 'kafka-1:90922' is not a broker's host:port")]
    [InlineData("Kafka:BootstrapServers", "kafka-1:9092;kafka-2:9092", "Kafka:BootstrapServers = 'kafka-1:9092;kafka-2:9092': 'kafka-1:9092;kafka-2:9092' is not")]
    [InlineData("Ingress:MaxBatchEvents", "0", "Ingress:MaxBatchEvents must be positive")]
    [InlineData("Ingress:TrustedProxies:0", "10.0.0.0/99", "Ingress:TrustedProxies")]
    [InlineData("RateLimit:PerClientIp:Burst", "0", "RateLimit:PerClientIp needs")]
    [InlineData("AppRegistry:CacheCapacity", "0", "AppRegistry:CacheCapacity must be above 0")]
    [InlineData("LiveEvents:EventsPerWriteKey", "0", "LiveEvents:EventsPerWriteKey = '0'")]
    [InlineData("Spool:Path", "/proc/akkacollector-spool", "Spool:Path = '/proc/akkacollector-spool': the journal cannot be written there")]
    [InlineData("Spool:ConnectionString", "spool.db", "Spool:ConnectionString is not a sqlite connection string")]
    [InlineData("Redis:Configuration", "redis-1:6379,passwrd=s3cret", "Redis:Configuration is not a StackExchange.Redis configuration string")]
    public void Should_refuse_a_bad_setting_of_every_section_naming_it(string key, string value, string failure)
    {
        var failures = FailuresAtStart(new() { [key] = value });

        Assert.Contains(failures, line => line.StartsWith(failure, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Shutdown:KillWindow", "10s", "00:00:10")]
    [InlineData("Spool:WriteTimeout", "500ms", "00:00:00.5000000")]
    [InlineData("AppRegistry:CacheTtl", "2m", "00:02:00")]
    [InlineData("Spool:TruncationInterval", "00:00:02", "00:00:02")]
    [InlineData("Spool:MaxBytes", "1GiB", "1073741824")]
    [InlineData("Spool:MemoryBytesPerPartition", "512MiB", "536870912")]
    [InlineData("Ingress:MaxEventBytes", "32KiB", "32768")]
    [InlineData("Ingress:MaxRequestBytes", "1MB", "1000000")]
    public void Should_read_the_units_people_write_as_the_binder_reads_them(string key, string value, string bound)
    {
        var result = SettingsCheck.Check(Configuration(new() { [key] = value }), profile: null);

        Assert.Empty(result.Failures);
        Assert.Equal(bound, result.Normalized[key]);
    }

    [Fact]
    public void Should_start_clean_with_no_setting_and_with_every_default_address_form()
    {
        Assert.Empty(FailuresAtStart([]));
        Assert.Empty(FailuresAtStart(new() { ["urls"] = "http://127.0.0.1:0;http://[::1]:8080;http://localhost:5000;http://*:8080" }));
    }

    [Fact]
    public void Should_refuse_a_spool_path_that_is_a_file_or_lies_under_one() => InTempFolder(folder =>
    {
        var file = Path.Combine(folder, "spool");
        File.WriteAllText(file, "");

        Assert.Contains($"Spool:Path = '{file}': is a file", FailuresAtStart(new() { ["Spool:Path"] = file }).Single());
        Assert.StartsWith($"Spool:Path = '{file}/journal': the journal cannot be written there",
            FailuresAtStart(new() { ["Spool:Path"] = $"{file}/journal" }).Single(), StringComparison.Ordinal);
    });

    [Theory]
    [InlineData("kafka-1:9092,kafka-2:9092, kafka-3:9092")]
    [InlineData("kafka-1")]
    [InlineData("10.0.0.5:9092,[fd00::5]:9092")]
    [InlineData("SASL_SSL://broker.example.com:9093")]
    public void Should_accept_bootstrap_servers_as_librdkafka_reads_them(string servers) =>
        Assert.Empty(FailuresAtStart(new() { ["Kafka:BootstrapServers"] = servers }));

    [Fact]
    public void Should_refuse_a_sqlite_connection_string_whose_journal_sqlite_cannot_create() => InTempFolder(folder =>
    {
        var missing = Path.Combine(folder, "missing", "spool.db");

        Assert.Equal($"Spool:ConnectionString names the journal '{missing}': its folder '{Path.Combine(folder, "missing")}' does not exist (SQLite creates the file, not its folder)",
            FailuresAtStart(new() { ["Spool:ConnectionString"] = $"Data Source={missing}" }).Single());
        Assert.Equal($"Spool:ConnectionString names the journal '{folder}': is a folder; name the journal's file",
            FailuresAtStart(new() { ["Spool:ConnectionString"] = $"Data Source={folder}" }).Single());
        // A file SQLite can create in a folder that exists, and a database in memory, are fine; neither check leaves a file.
        Assert.Empty(FailuresAtStart(new() { ["Spool:ConnectionString"] = $"Data Source={Path.Combine(folder, "spool.db")}" }));
        Assert.Empty(FailuresAtStart(new() { ["Spool:ConnectionString"] = "Data Source=:memory:" }));
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
    });

    [Fact]
    public void Should_refuse_a_mistyped_postgresql_connection_string_without_repeating_its_password()
    {
        var failure = FailuresAtStart(new() { ["Spool:Provider"] = "postgresql", ["Spool:ConnectionString"] = "Host=db;Passwrd=s3cret" }).Single();

        Assert.StartsWith("Spool:ConnectionString is not a postgresql connection string: ", failure, StringComparison.Ordinal);
        Assert.Contains("passwrd", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_create_a_missing_spool_folder_and_leave_nothing_else_in_it() => InTempFolder(folder =>
    {
        var spool = Path.Combine(folder, "new", "spool");

        Assert.Empty(FailuresAtStart(new() { ["Spool:Path"] = spool }));
        Assert.Empty(Directory.EnumerateFileSystemEntries(spool));
    });

    [Fact]
    public void Should_give_the_shutdown_plan_a_kill_window_written_with_a_unit()
    {
        var configuration = Configuration(new() { ["Shutdown:KillWindow"] = "30s" });
        var result = SettingsCheck.Check(configuration, profile: null);

        var plan = ShutdownSettings.Load(Overlay(configuration, result)).Plan;

        Assert.Equal(TimeSpan.FromSeconds(30), plan.KillWindow);
    }

    [Theory]
    [InlineData("call-timeout = 2s", "call-timeout must be above 0 and below 1s")]
    [InlineData("max-failures = 0", "max-failures must be at least 1")]
    [InlineData("call-timeout = soon", "HOCON collector.lookups.breaker")]
    public void Should_refuse_a_bad_breaker_policy_in_HOCON_naming_its_path(string line, string failure)
    {
        var hocon = ConfigurationFactory.ParseString($"collector.lookups.breaker {{ {line} }}")
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(CollectorHocon.PathOf("lookups.conf"))));

        var problem = SettingsCheck.BreakerProblem(hocon);

        Assert.NotNull(problem);
        Assert.StartsWith("HOCON collector.lookups.breaker", problem, StringComparison.Ordinal);
        Assert.Contains(failure, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_refuse_a_profile_that_does_not_exist_naming_the_known_ones()
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection([new KeyValuePair<string, string?>(CollectorProfile.Setting, "staging")]);

        var result = SettingsCheck.Apply(configuration);

        Assert.StartsWith("Collector:Profile = 'staging': there is no ", Assert.Single(result.Failures), StringComparison.Ordinal);
        Assert.EndsWith("(profiles: production)", result.Failures[0], StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="test"/> with a folder of its own, deleted afterwards.</summary>
    private static void InTempFolder(Action<string> test)
    {
        var folder = Directory.CreateTempSubdirectory("akkacollector-spool-path-").FullName;
        try
        {
            test(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>What the collector's start refuses: the settings check first, then the options classes' validation.</summary>
    private static IReadOnlyList<string> FailuresAtStart(Dictionary<string, string?> settings)
    {
        var configuration = Configuration(settings);
        var result = SettingsCheck.Check(configuration, profile: null);
        if (result.Failures.Count > 0)
            return result.Failures;

        var bound = Overlay(configuration, result);
        using var services = new ServiceCollection()
            .AddLogging()
            .AddCollectorSpool(bound)
            .AddCollectorPublishing(bound)
            .AddCollectorLookups(bound)
            .AddTrackingApi(bound)
            .AddLiveEvents(bound)
            .BuildServiceProvider();
        return SettingsCheck.OptionsFailures(services);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private static IConfiguration Overlay(IConfiguration configuration, SettingsCheck.Result result) =>
        new ConfigurationBuilder().AddConfiguration(configuration).AddInMemoryCollection(result.Normalized).Build();
}
