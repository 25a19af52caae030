using AkkaCollector.LiveEvents;
using Microsoft.Extensions.Options;

namespace AkkaCollector.Publishing;

/// <summary>Wiring of delivery to Kafka: <c>services.AddCollectorPublishing(configuration)</c>.</summary>
public static class PublishingHosting
{
    /// <summary>Binds Kafka:* (validated at start) and registers the connection (embedded mock when no bootstrap servers are set), the publisher and the read-back.</summary>
    public static IServiceCollection AddCollectorPublishing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KafkaOptions>(configuration, KafkaOptions.Section);
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();
        services.AddSingleton<KafkaConnection>();
        services.AddSingleton(sp => new KafkaPublisher(
            sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
            sp.GetRequiredService<KafkaConnection>().BootstrapServers,
            sp.GetRequiredService<ILogger<KafkaPublisher>>(),
            sp.GetService<LiveEventsRecorder>()));
        services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<KafkaPublisher>());
        services.AddSingleton<IKafkaReadBack>(sp => new KafkaReadBack(
            sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
            sp.GetRequiredService<KafkaConnection>().BootstrapServers,
            sp.GetRequiredService<ILogger<KafkaReadBack>>()));
        return services;
    }
}
