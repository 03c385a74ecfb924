#!/usr/bin/env bash
# Runs the fleet simulation (one real Pushgateway, many simulated jobs; about 35 minutes),
# then writes BENCHMARKS.md. Settings: the environment variables at the top of
# bench/benches/fleet.rs (e.g. PUSHTIMER_FLEET_RUNS=paced:1000:1s for one run).
# `--no-report`: only the simulation (bench/run.sh writes the report once, at its end).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each job holds a connection to the gateway, and the gateway one per job (plus the requests
# it still holds when overloaded): raise the open-files limit as far as allowed.
hard=$(ulimit -Hn)
want=65536
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
soft=$(ulimit -Sn)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$want" ]; then ulimit -Sn "$want"; fi
cargo bench -p pushtimer-bench --bench fleet
if [ "${1:-}" != --no-report ]; then
    python3 bench/report.py
fi
