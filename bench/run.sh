#!/usr/bin/env bash
# Runs every benchmark, then writes BENCHMARKS.md from the results.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p pushtimer-bench --bench overhead
cargo bench -p pushtimer-bench --bench push_path
cargo bench -p pushtimer-bench --bench series_memory
PUSHTIMER_BENCH_GATEWAY=pushing cargo bench -p pushtimer-bench --bench push_activity
PUSHTIMER_BENCH_GATEWAY=blackholed cargo bench -p pushtimer-bench --bench push_activity
bench/fleet.sh --no-report
python3 bench/report.py
