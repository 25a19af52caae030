// pm2 process file for one collector. `pm2 reload` / `gracefulReload` sends SIGINT, then kills the process when
// it is still running after kill_timeout. The story behind this collector lost every spooled event because
// kill_timeout was pm2's default 3000 ms while its shutdown took 4 s.
//
// kill_timeout must equal collector.shutdown.kill-window in hocon/shutdown.conf (10s): the collector refuses
// to start when its shutdown phases do not fit that window, and a unit test fails when this file drifts from it.
// Check the budget with: dotnet /opt/akka-collector/AkkaCollector.dll shutdown-plan
module.exports = {
  apps: [
    {
      name: "akka-collector",
      script: "/opt/akka-collector/AkkaCollector.dll",
      interpreter: "dotnet",
      cwd: "/opt/akka-collector",
      args: "--urls http://0.0.0.0:8080",
      exec_mode: "fork",
      instances: 1,
      kill_timeout: 10000,
      // The collector exits 78 when its shutdown plan does not fit; restarting cannot fix configuration.
      stop_exit_codes: [78],
      env: {
        ASPNETCORE_ENVIRONMENT: "Production",
        // Two glibc malloc arenas, read only as the process starts: a smaller native heap at no measured cost
        // (docs/deploy.md, "Memory settings read at start").
        MALLOC_ARENA_MAX: "2",
        // The garbage collector's gen1 budget capped at 8 MiB (hex), read only from the environment as the process
        // starts: a lower peak RSS in a Kafka outage (same section).
        DOTNET_GCGen1MaxBudget: "0x800000",
      },
    },
  ],
};
