#!/usr/bin/env python3
"""Turns the results of `cargo bench -p pushtimer-bench` into BENCHMARKS.md at the repo root.

Reads criterion's `target/criterion/<group>/<id>/new/{estimates,benchmark}.json`; every number
written comes from those files (or from the machine: lscpu, rustc, Cargo.lock). Standard
library only. Usage, from anywhere: `bench/run.sh` (runs every benchmark, then this).
"""

import datetime
import json
import os
import subprocess
import sys
import tomllib

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
CRITERION = os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "criterion"
)
OUTPUT = os.path.join(ROOT, "BENCHMARKS.md")
PEERS_NOT_BUILT = os.path.join(BENCH_DIR, "PEERS_NOT_BUILT.md")

# The `overhead` group, in the order of the table, with what each benchmark times.
OVERHEAD = [
    ("floor", "two `Instant::now()` + one relaxed `fetch_add` into a static `AtomicU64`"),
    ("pushtimer", '`#[pushtimer::timed(name = "bench_pushtimer")]`'),
    ("pushtimer_result", '`#[pushtimer::timed]` on a function returning `Result` (outcome from the value)'),
    ("pushtimer_quantiles", "`#[pushtimer::timed(quantiles(0.5, 0.9, 0.99))]` (one more `fetch_add` into a log-linear bucket)"),
    ("pushtimer_histogram", "`#[pushtimer::timed(histogram)]` (default buckets: a branch-free count of the bounds below, then that bucket's `fetch_add` instead of the count's)"),
    ("prometheus_histogram_timer", "`prometheus` `Histogram::start_timer()` + drop (default buckets)"),
    ("prometheus_histogram_vec", '`prometheus` `HistogramVec::with_label_values(&["x"]).observe(secs)`'),
    ("metrics_histogram", '`metrics::histogram!("bench_metrics").record(secs)`, `metrics-exporter-prometheus` recorder'),
    ("autometrics", "`#[autometrics]`, prometheus 0.14 backend"),
    ("metered", "`#[measure(ResponseTime)]` in a `#[metered(registry = ...)]` impl"),
]
SCALING = [("1_thread", 1), ("2_threads", 2)]
# The `push_activity` bench binary, run once per gateway stand-in (see bench/run.sh).
PUSH_ACTIVITY = [
    ("pushing", "a loopback sink answering 200 at once, pushed to every 1 ms"),
    ("blackholed", "a gateway that accepts and never answers: a push always hanging"),
]
PUSH_PATH = [
    ("render_10000_series", "`pushtimer::render()` of 10,000 summary series"),
    ("push_10000_series", "`Pusher::push` of that text (gzip + HTTP PUT) to a loopback sink answering 200"),
    ("render_10000_series_and_10000_histograms", "`pushtimer::render()` of those and 10,000 histogram series (default buckets: 21 each)"),
    ("push_10000_series_and_10000_histograms", "`Pusher::push` of that text to the same sink"),
]
# Crates whose versions are reported (from Cargo.lock).
CRATES = [
    "criterion",
    "prometheus",
    "metrics",
    "metrics-exporter-prometheus",
    "autometrics",
    "metered",
    "ureq",
    "flate2",
]

PEER_PROSE = """\
Every timer reads a clock twice per call. The peers (and `floor`) use `Instant::now()`
(`clock/instant_now` above is the price of one read); pushtimer reads the CPU's invariant
time-stamp counter through `quanta` where there is one (see Findings). The rest of the
differences are in what happens around those reads.

- **pushtimer** (`#[timed]`): the series is resolved on the first call and cached in a
  `static` at the call site; after that a call is one atomic load of that cache, two
  time-stamp-counter reads and one multiply-shift to nanoseconds, a thread-local read of the
  thread's shard number, two relaxed `fetch_add`s (count
  and integer nanoseconds) on that shard (one shard per CPU, each alone on its cache lines, so
  threads do not bounce a shared line) into the series of the call's outcome (a byte in the
  guard, set where the function returns; for a `Result`, an `is_err()`), and one store to the
  shard's "changed" flag. No lock, no hashing, no `Arc` clone, no allocation, no float
  arithmetic; no quantiles or buckets are computed (a summary of count and sum).
- **prometheus `Histogram::start_timer`**: clones the histogram's `Arc` into the timer (an
  atomic increment, and a decrement at drop), converts the duration to `f64` seconds, searches
  the bucket bounds linearly, then does four atomic read-modify-writes (hot/cold shard counter,
  bucket, sum as an `f64` compare-and-swap loop, count) on cache lines shared by every thread.
- **prometheus `HistogramVec::with_label_values`**: all of the above, plus per call an FNV hash of
  the label values, a read lock on the children map, a `HashMap` lookup and an `Arc` clone of
  the child histogram.
- **metrics + metrics-exporter-prometheus**: per call the `histogram!` macro goes through the
  global recorder (dynamic dispatch), looks the key up in the recorder's sharded registry (hash,
  read lock, `Arc` clone of the handle) and appends the `f64` sample to a lock-free bucket that
  allocates a new block every few dozen samples. The samples are only folded into the
  distribution (quantile sketch) at upkeep or render; until then memory grows with the call
  rate. The benchmark runs upkeep every 5 s on a separate thread, as the exporter's own
  listener would, so that cost is not in the per-call figure.
- **autometrics** (prometheus backend): per call a `Once` check for build info, a thread-local
  caller scope set and restored, then two `with_label_values` lookups (a counter with 10 labels,
  a histogram with 6: each an FNV hash over every label string, a read lock, a lookup and an
  `Arc` clone), a counter increment and a histogram observation as above.
- **metered** `ResponseTime`: per call a `parking_lot` mutex lock around an HdrHistogram record.
  Uncontended it is cheap, but every thread calling the method serialises on that one mutex, and
  by default it records whole milliseconds (`StdInstant`), so sub-millisecond calls are all
  recorded as 0 ms.
"""


FINDINGS = """\
- **The clock is the cost.** Any timer reads a clock twice per call. With `Instant::now()`
  (a vDSO `clock_gettime`: a seqlock, a counter read and a conversion) those two reads are
  most of `floor`, and the cheapest peers sit just above it: against such a floor no timer can
  be 2 × faster than `prometheus_histogram_timer`, since that one adds only a few ns on top of
  the same two reads. The only way below is a cheaper clock.
- **pushtimer's clock.** pushtimer reads the invariant time-stamp counter directly
  (`quanta::Clock::raw`, an `rdtsc`) and converts the difference of two reads to nanoseconds
  with a factor calibrated once against the OS's monotonic clock (on the first timed call,
  before its timer starts). A later read that is not above the earlier one (counters of two
  cores a hair apart) counts as zero, so a duration is never negative. Where the CPU has no
  invariant TSC, quanta falls back to the OS's monotonic clock and the figures above become
  the `floor` ones. This is why `pushtimer` measures below `floor`, whose definition keeps
  `Instant::now()`.
- **Scaling.** Each series has one cache-padded shard per CPU; a thread writes only its own
  shard, and collection adds the shards up. Two threads therefore never write the same cache
  line, and throughput grows with the threads (see Scaling).
- **Pushing costs the calls nothing.** The push thread renders the registry on its own time;
  the calls it races only ever touch their own shard with relaxed atomic adds, so neither a
  push under way nor one hanging on a dead gateway shows in the per-call cost.
- **Allocation.** A timed call allocates nothing after its first (`tests/allocations.rs`
  proves it with a counting allocator), so memory stays flat however long a job runs.
"""


def load(group, bench_id):
    """(estimates, benchmark) of one benchmark, or None if it has not been run."""
    directory = os.path.join(CRITERION, group, bench_id, "new")
    try:
        with open(os.path.join(directory, "estimates.json"), encoding="utf-8") as f:
            estimates = json.load(f)
        with open(os.path.join(directory, "benchmark.json"), encoding="utf-8") as f:
            benchmark = json.load(f)
    except FileNotFoundError:
        return None
    return estimates, benchmark


def mean(estimates):
    """Mean point estimate and its 95% confidence interval, in ns per iteration."""
    m = estimates["mean"]
    ci = m["confidence_interval"]
    return m["point_estimate"], ci["lower_bound"], ci["upper_bound"]


def run(command):
    try:
        return subprocess.run(
            command, capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def machine():
    lines = []
    lscpu = run(["lscpu"]) or ""
    fields = {}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    model = fields.get("Model name", "unknown")
    cpus = fields.get("CPU(s)", str(os.cpu_count() or "unknown"))
    per_core = fields.get("Thread(s) per core")
    hypervisor = fields.get("Hypervisor vendor")
    cpu = f"{model}, {cpus} logical CPUs"
    if per_core:
        cpu += f" ({per_core} thread(s) per core)"
    if hypervisor:
        cpu += f", virtualised ({hypervisor})"
    lines.append(f"- CPU: {cpu}")
    try:
        with open(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            encoding="utf-8",
        ) as f:
            lines.append(f"- Clock source: `{f.read().strip()}`")
    except OSError:
        pass
    lines.append(f"- Compiler: `{run(['rustc', '--version']) or 'unknown'}`")
    lines.append(f"- OS: `{run(['uname', '-srm']) or 'unknown'}`")
    report_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"- Report written: {report_date}")
    return lines


def crate_versions():
    try:
        with open(os.path.join(ROOT, "Cargo.lock"), "rb") as f:
            lock = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return []
    versions = {}
    for package in lock.get("package", []):
        versions.setdefault(package["name"], []).append(package["version"])
    return [
        f"`{name}` {', '.join(versions[name])}" for name in CRATES if name in versions
    ]


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def ns_of(group, bench_id):
    result = load(group, bench_id)
    return mean(result[0])[0] if result else None


def rate_of(bench_id):
    result = load("scaling", bench_id)
    if result is None:
        return None
    estimates, benchmark = result
    elements = (benchmark.get("throughput") or {}).get("Elements")
    return elements / (mean(estimates)[0] * 1e-9) if elements else None


def targets():
    """The issue's targets, each with the ratio measured in this run."""
    pushtimer = ns_of("overhead", "pushtimer")
    rows = []

    def row(target, value, fmt, ok):
        if value is None:
            rows.append(f"| {target} | not run | |")
        else:
            rows.append(f"| {target} | {fmt.format(value)} | {'yes' if ok(value) else '**no**'} |")

    def ratio(numerator, denominator):
        if numerator is None or denominator is None:
            return None
        return numerator / denominator

    row("`pushtimer` ≤ 1.1 × `floor`", ratio(pushtimer, ns_of("overhead", "floor")),
        "{:.2f} ×", lambda r: r <= 1.1)
    row("`pushtimer` ≥ 2 × faster than `prometheus_histogram_timer`",
        ratio(ns_of("overhead", "prometheus_histogram_timer"), pushtimer), "{:.2f} ×", lambda r: r >= 2)
    row("`pushtimer` ≥ 4 × faster than `autometrics`",
        ratio(ns_of("overhead", "autometrics"), pushtimer), "{:.2f} ×", lambda r: r >= 4)
    for bench_id in ["pushtimer_result", "pushtimer_quantiles", "pushtimer_histogram"]:
        limit = 1.1 if bench_id == "pushtimer_result" else 1.5
        row(f"`{bench_id}` ≤ {limit} × `pushtimer`",
            ratio(ns_of("overhead", bench_id), pushtimer), "{:.2f} ×", lambda r, limit=limit: r <= limit)
    row("2 threads ≥ 1.9 × the throughput of 1 thread",
        ratio(rate_of("2_threads"), rate_of("1_thread")), "{:.2f} ×", lambda r: r >= 1.9)
    for bench_id, _ in PUSH_ACTIVITY:
        busy = ns_of("push_activity", bench_id)
        row(f"`push_activity/{bench_id}` within 10% of `overhead/pushtimer`",
            ratio(busy, pushtimer), "{:.2f} ×", lambda r: r <= 1.1)
    return rows


def main():
    if not os.path.isdir(CRITERION):
        sys.exit(f"no criterion results in {CRITERION}: run `cargo bench -p pushtimer-bench` first")
    out = []
    w = out.append
    w("# Benchmarks")
    w("")
    w("Written by `bench/report.py` from criterion's results; every number below comes from")
    w("`target/criterion/*/new/estimates.json` (the mean, with its 95% confidence interval).")
    w("")
    w("## Machine")
    w("")
    out.extend(machine())
    versions = crate_versions()
    if versions:
        w(f"- Crates: {'; '.join(versions)}")
    w("")
    w("## How to reproduce")
    w("")
    w("```sh")
    w("bench/run.sh   # every benchmark, then python3 bench/report.py")
    w("```")
    w("")
    w("Criterion settings: 1 s warm-up, 3 s measurement, 100 samples per benchmark.")
    w("")

    # --- overhead -------------------------------------------------------------------------
    w("## Per-call overhead (`overhead` group, one thread)")
    w("")
    w("Every benchmark times the same trivial body (a few integer operations on a")
    w("`black_box`ed input); only the timing around it differs. `floor` is the least a timer")
    w("built on `Instant::now()` can do: two clock reads and one atomic add.")
    w("")
    floor = load("overhead", "floor")
    floor_ns = mean(floor[0])[0] if floor else None
    w("| benchmark | what is timed | mean ns/call | 95% CI | × floor | ns over floor |")
    w("|---|---|---:|---|---:|---:|")
    for bench_id, what in OVERHEAD:
        result = load("overhead", bench_id)
        if result is None:
            w(f"| `{bench_id}` | {what} | not run | | | |")
            continue
        ns, low, high = mean(result[0])
        ratio = f"{ns / floor_ns:.2f}" if floor_ns else "n/a"
        over = f"{ns - floor_ns:+.1f}" if floor_ns else "n/a"
        w(f"| `{bench_id}` | {what} | {ns:.1f} | {low:.1f} – {high:.1f} | {ratio} | {over} |")
    w("")
    clock = load("clock", "instant_now")
    if clock:
        ns, low, high = mean(clock[0])
        w(f"For reference, one `Instant::now()` (`clock/instant_now`) costs {ns:.1f} ns")
        w(f"(95% CI {low:.1f} – {high:.1f}) on this machine; `floor` and every peer read it twice.")
        w("")

    # --- scaling --------------------------------------------------------------------------
    w("## Scaling (`scaling` group)")
    w("")
    w("The `#[timed]` function called from 1 thread, and from 2 threads at once (same series),")
    w("started together by a barrier; timed from the barrier's release until every thread has")
    w("finished.")
    w("")
    w("| benchmark | threads | calls per iteration | mean per iteration | calls/s | × 1 thread |")
    w("|---|---:|---:|---:|---:|---:|")
    single_rate = None
    for bench_id, threads in SCALING:
        result = load("scaling", bench_id)
        if result is None:
            w(f"| `{bench_id}` | {threads} | | not run | | |")
            continue
        estimates, benchmark = result
        ns = mean(estimates)[0]
        elements = (benchmark.get("throughput") or {}).get("Elements")
        if not elements:
            w(f"| `{bench_id}` | {threads} | ? | {fmt_ns(ns)} | no throughput recorded | |")
            continue
        rate = elements / (ns * 1e-9)
        if threads == 1:
            single_rate = rate
        ratio = f"{rate / single_rate:.2f}" if single_rate else "n/a"
        w(f"| `{bench_id}` | {threads} | {elements} | {fmt_ns(ns)} | {rate / 1e6:.2f} M | {ratio} |")
    w("")

    # --- push activity --------------------------------------------------------------------
    w("## Pushing in the background (`push_activity`)")
    w("")
    w("The same `#[timed]` function as `overhead/pushtimer`, in a process whose background")
    w("thread is busy pushing. A push must cost the calls nothing.")
    w("")
    w("| benchmark | the gateway | mean ns/call | 95% CI | vs `overhead/pushtimer` |")
    w("|---|---|---:|---|---:|")
    quiet = load("overhead", "pushtimer")
    quiet_ns = mean(quiet[0])[0] if quiet else None
    for bench_id, what in PUSH_ACTIVITY:
        result = load("push_activity", bench_id)
        if result is None:
            w(f"| `{bench_id}` | {what} | not run | | |")
            continue
        ns, low, high = mean(result[0])
        versus = f"{ns - quiet_ns:+.1f} ns" if quiet_ns else "n/a"
        w(f"| `{bench_id}` | {what} | {ns:.1f} | {low:.1f} – {high:.1f} | {versus} |")
    w("")

    # --- targets --------------------------------------------------------------------------
    w("## Targets")
    w("")
    w("| target | measured | met |")
    w("|---|---:|---|")
    for line in targets():
        w(line)
    w("")

    # --- push path ------------------------------------------------------------------------
    w("## Push path (`push_path` group)")
    w("")
    w("| benchmark | what is timed | mean | 95% CI |")
    w("|---|---|---:|---|")
    for bench_id, what in PUSH_PATH:
        result = load("push_path", bench_id)
        if result is None:
            w(f"| `{bench_id}` | {what} | not run | |")
            continue
        ns, low, high = mean(result[0])
        w(f"| `{bench_id}` | {what} | {fmt_ns(ns)} | {fmt_ns(low)} – {fmt_ns(high)} |")
    w("")

    # --- peers not built ------------------------------------------------------------------
    w("## Peers not built")
    w("")
    if os.path.exists(PEERS_NOT_BUILT):
        with open(PEERS_NOT_BUILT, encoding="utf-8") as f:
            w(f.read().rstrip())
    else:
        w("None: every peer above built with the compiler named under Machine.")
    w("")

    # --- prose ----------------------------------------------------------------------------
    w("## What each peer does per call that pushtimer avoids")
    w("")
    w(PEER_PROSE.rstrip())
    w("")
    w("## Findings")
    w("")
    w(FINDINGS.rstrip())
    w("")

    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
