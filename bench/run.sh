#!/usr/bin/env bash
# The benchmark (docs/benchmark.md): builds the collector and the rig in Release, then runs the rig's `bench` verb.
#   bench/run.sh [--quick] [--lookups] [--duration 20s] [--spooled 1000000] [--set "Section:Key=value;..."] [--out DIR]
# Loopback only; every phase is bounded in time and count; it stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# wrk is the load tool; redis-server serves --lookups. Installed here when missing, as the test command does.
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "bench needs ${missing[*]} (Debian: apt-get install ${missing[*]})" >&2; exit 2; }
fi
dotnet build src/AkkaCollector -c Release -nologo -clp:ErrorsOnly
dotnet build src/AkkaCollector.Rig -c Release -nologo -clp:ErrorsOnly
exec dotnet src/AkkaCollector.Rig/bin/Release/net10.0/AkkaCollector.Rig.dll bench "$@"
