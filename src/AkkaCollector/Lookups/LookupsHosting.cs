using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AkkaCollector.Lookups;

/// <summary>Which lookups run, decided once from configuration.</summary>
public sealed record LookupPlan(RedisOptions Redis, RateLimitOptions RateLimit, AppRegistryOptions AppRegistry, GeoOptions Geo)
{
    public bool RateLimitOn => Redis.Enabled && RateLimit.Enabled;

    public bool AppRegistryOn => Redis.Enabled && AppRegistry.Enabled;

    public bool AnyOn => RateLimitOn || AppRegistryOn || Geo.Enabled;
}

/// <summary>Wiring of the lookups: <c>services.AddCollectorLookups(configuration)</c> and <c>akka.WithCollectorLookups()</c>.</summary>
public static class LookupsHosting
{
    /// <summary>
    /// Binds <c>Redis:*</c>, <c>RateLimit:*</c>, <c>AppRegistry:*</c>, <c>Geo:*</c> (validated at start) and registers
    /// <see cref="IRequestLookups"/>: <see cref="NoLookups"/> when nothing is configured, else <see cref="CollectorLookups"/>.
    /// </summary>
    public static IServiceCollection AddCollectorLookups(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<RedisOptions>(configuration, RedisOptions.Section)
            .Validate(o => o.ConnectTimeout > TimeSpan.Zero, "Redis:ConnectTimeout must be above 0.")
            // Parsed here as the lookups will parse it, or a typo ends the start inside the actor system's. The message
            // does not repeat the value: it may hold a password.
            .Validate(o => !o.Enabled || Parses(o.Configuration!),
                "Redis:Configuration is not a StackExchange.Redis configuration string: write host:port[,host:port...][,option=value...], e.g. redis-1:6379,password=...");
        services.AddValidatedOptions<RateLimitOptions>(configuration, RateLimitOptions.Section)
            .Validate(o => IsValid(o.PerWriteKey), "RateLimit:PerWriteKey needs Rate >= 0 and, when Rate > 0, Burst >= 1.")
            .Validate(o => IsValid(o.PerClientIp), "RateLimit:PerClientIp needs Rate >= 0 and, when Rate > 0, Burst >= 1.");
        services.AddValidatedOptions<AppRegistryOptions>(configuration, AppRegistryOptions.Section)
            .Validate(o => o.CacheCapacity > 0, "AppRegistry:CacheCapacity must be above 0.");
        services.AddValidatedOptions<GeoOptions>(configuration, GeoOptions.Section);
        services.AddSingleton(sp => new LookupPlan(
            sp.GetRequiredService<IOptions<RedisOptions>>().Value,
            sp.GetRequiredService<IOptions<RateLimitOptions>>().Value,
            sp.GetRequiredService<IOptions<AppRegistryOptions>>().Value,
            sp.GetRequiredService<IOptions<GeoOptions>>().Value));
        services.AddSingleton<LookupActorRefs>();
        services.AddSingleton<IRequestLookups>(sp =>
        {
            var plan = sp.GetRequiredService<LookupPlan>();
            if (!plan.AnyOn)
                return new NoLookups();
            var geo = plan.Geo.Enabled ? new GeoCoder(plan.Geo, sp.GetRequiredService<ILogger<GeoCoder>>()) : null;
            return new CollectorLookups(sp.GetRequiredService<LookupActorRefs>(), geo);
        });
        return services;
    }

    private static bool Parses(string configuration)
    {
        try
        {
            ConfigurationOptions.Parse(configuration);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// Loads hocon/lookups.conf as a fallback (settings added before it win), starts the rate-limit and app-registry
    /// actors that the configuration turns on, hands them to the request path (<see cref="LookupActorRefs"/>), and logs
    /// once which lookups are off.
    /// </summary>
    public static AkkaConfigurationBuilder WithCollectorLookups(this AkkaConfigurationBuilder builder) =>
        builder
            .AddHoconFile(CollectorHocon.PathOf("lookups.conf"), HoconAddMode.Append)
            .WithActors((system, _, resolver) =>
            {
                var plan = resolver.GetService<LookupPlan>();
                var settings = LookupBreakerSettings.From(system.Settings.Config);
                var log = Logging.GetLogger(system, "lookups");
                LogPlan(log, plan, settings);
                // Akka's scheduler starts its timer thread on first use and blocks that caller meanwhile (measured:
                // 0.7-1 s on 2 busy cores). A tripping breaker schedules its reset on it: start it now, at start-up,
                // not inside the first outage (where it held the tripping request for a second).
                system.Scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, static () => { });
                IActorRef? rateLimiter = null;
                IActorRef? appRegistry = null;
                if (plan.Redis.Enabled && (plan.RateLimitOn || plan.AppRegistryOn))
                {
                    var connection = new RedisConnection(plan.Redis, settings);
                    system.RegisterOnTermination(connection.Dispose);
                    if (plan.RateLimitOn)
                    {
                        rateLimiter = system.ActorOf(
                            RateLimitActor.Props(new RedisRateLimitStore(connection), plan.RateLimit, settings), "rate-limit");
                    }
                    if (plan.AppRegistryOn)
                    {
                        appRegistry = system.ActorOf(
                            AppRegistryActor.Props(new RedisAppRegistryStore(connection), plan.AppRegistry, settings), "app-registry");
                    }
                }
                resolver.GetService<LookupActorRefs>().Set(new LookupActors(rateLimiter, appRegistry, settings.AskTimeout));
            });

    private static bool IsValid(RateLimitRule rule) => rule.Rate >= 0 && (!rule.Enabled || rule.Burst >= 1);

    private static void LogPlan(ILoggingAdapter log, LookupPlan plan, LookupBreakerSettings settings)
    {
        if (!plan.Redis.Enabled)
            log.Info("Redis:Configuration is not set: the rate limit and app registry lookups are off (every write key accepted, no limits)");
        else
            log.Info("Lookups via Redis: rate limit {0}, app registry {1}; breaker: {2} failures open it, call-timeout {3}, reset-timeout {4} up to {5}",
                plan.RateLimitOn ? "on" : "off", plan.AppRegistryOn ? "on" : "off",
                settings.MaxFailures, settings.CallTimeout, settings.ResetTimeout, settings.MaxResetTimeout);
        if (!plan.Geo.Enabled)
            log.Info("Geo:DatabasePath is not set: geo-coding is off");
    }
}
