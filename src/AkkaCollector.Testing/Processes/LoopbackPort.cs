using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.Testing.Processes;

/// <summary>Loopback ports for the servers fixtures start (collector, redis-server, PostgreSQL).</summary>
public static class LoopbackPort
{
    /// <summary>A port nobody listens on right now: bind port 0 on loopback, note what the kernel chose, release it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
