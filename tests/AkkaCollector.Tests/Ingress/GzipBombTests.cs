using System.Net;

namespace AkkaCollector.Tests.Ingress;

/// <summary>
/// The allocation this measures is the whole process's: these tests run alone, so that another test's allocations
/// cannot pass for the bomb's (a CI run beside the parallel tests counted 26 MB against the 16 MB bound).
/// </summary>
[CollectionDefinition(nameof(GzipBombTests), DisableParallelization = true)]
[Collection(nameof(GzipBombTests))]
public sealed class GzipBombTests : IAsyncLifetime
{
    private IngressTestHost _host = null!;

    public async Task InitializeAsync() => _host = await IngressTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Should_answer_413_to_a_gzip_bomb_without_inflating_it_into_memory()
    {
        var bomb = Bodies.GzipBomb;
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var response = await _host.PostAsync("/v1/batch", bomb, "wk", "gzip");

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        // The bomb inflates to 50 MB; reading it may cost the 500 KB limit plus buffers.
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated} bytes");
        Assert.Empty(_host.Spool.Received);
    }
}
