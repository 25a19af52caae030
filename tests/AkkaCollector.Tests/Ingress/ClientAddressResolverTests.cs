using System.Net;
using AkkaCollector.Ingress;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AkkaCollector.Tests.Ingress;

public sealed class ClientAddressResolverTests
{
    private readonly ClientAddressResolver _resolver = new(["10.0.0.0/8", "192.0.2.10", "2001:db8::/32"]);

    [Theory]
    [InlineData("203.0.113.5", null, "203.0.113.5")]
    [InlineData("203.0.113.5", "198.51.100.1", "203.0.113.5")]
    [InlineData("10.0.0.1", null, "10.0.0.1")]
    [InlineData("10.0.0.1", "198.51.100.1", "198.51.100.1")]
    [InlineData("10.0.0.1", "6.6.6.6, 198.51.100.1, 192.0.2.10", "198.51.100.1")]
    [InlineData("10.0.0.1", "10.2.2.2, 10.3.3.3", "10.2.2.2")]
    [InlineData("10.0.0.1", "198.51.100.1:51234", "198.51.100.1")]
    [InlineData("10.0.0.1", "not-an-address, 10.3.3.3", "10.3.3.3")]
    [InlineData("::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1")]
    [InlineData("2001:db8::1", "[2001:db9::5]:443", "2001:db9::5")]
    public void Should_walk_X_Forwarded_For_right_to_left_past_trusted_proxies_only(string peer, string? forwardedFor, string expected)
    {
        var client = _resolver.Resolve(IPAddress.Parse(peer), forwardedFor is null ? StringValues.Empty : new StringValues(forwardedFor));

        Assert.Equal(IPAddress.Parse(expected), client);
    }

    [Fact]
    public void Should_read_X_Forwarded_For_sent_as_several_header_lines_as_one_list()
    {
        var client = _resolver.Resolve(IPAddress.Parse("10.0.0.1"), new StringValues(["198.51.100.1", "10.4.4.4"]));

        Assert.Equal(IPAddress.Parse("198.51.100.1"), client);
    }

    [Fact]
    public void Should_know_no_client_when_the_server_knows_no_peer()
    {
        Assert.Null(_resolver.Resolve(null, new StringValues("198.51.100.1")));
    }

    [Fact]
    public void Should_refuse_to_start_with_a_trusted_proxy_that_is_not_an_address()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Ingress:TrustedProxies:0", "10.0.0.0/8"), new("Ingress:TrustedProxies:1", "load-balancer.internal")])
            .Build();
        using var services = new ServiceCollection().AddTrackingApi(configuration).BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<IngressOptions>>().Value);

        Assert.Contains("load-balancer.internal", failure.Message);
    }
}
