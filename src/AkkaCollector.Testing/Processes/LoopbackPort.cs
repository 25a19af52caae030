using System.Net;
using System.Net.Sockets;

namespace AkkaCollector.Testing.Processes;

/// <summary>Loopback ports for the servers fixtures start (collector, redis-server, PostgreSQL, HAProxy).</summary>
public static class LoopbackPort
{
    /// <summary>A port nobody listens on right now: bind port 0 on loopback, note what the kernel chose, release it.</summary>
    public static int Free() => Free(1)[0];

    /// <summary>
    /// <paramref name="count"/> different ports nobody listens on right now, each held until all are chosen. Taken one at
    /// a time, the kernel may hand a released port out again, and a server given one port twice need not fail: HAProxy
    /// binds with SO_REUSEPORT and lets the kernel split the connections between its two listeners (docs/rig.md).
    /// </summary>
    public static int[] Free(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            while (listeners.Count < count)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }
            return listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
                listener.Stop();
        }
    }
}
