#!/usr/bin/env bash
# The benchmark (docs/benchmark.md): builds the collector and the rig in Release, then runs the rig's `bench` verb.
#   bench/run.sh [--quick] [--lookups] [--duration 20s] [--spooled 1000000] [--set "Section:Key=value;..."] [--out DIR]
# Loopback only; every phase is bounded in time and count; it stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench needs wrk (Debian: apt-get install wrk)" >&2; exit 2; }
dotnet build src/AkkaCollector -c Release -nologo -clp:ErrorsOnly
dotnet build src/AkkaCollector.Rig -c Release -nologo -clp:ErrorsOnly
exec dotnet src/AkkaCollector.Rig/bin/Release/net10.0/AkkaCollector.Rig.dll bench "$@"
