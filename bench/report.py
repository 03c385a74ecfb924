#!/usr/bin/env python3
"""Turns the results of `cargo bench -p pushtimer-bench` into BENCHMARKS.md at the repo root.

Reads criterion's `target/criterion/<group>/<id>/new/{estimates,benchmark}.json` and the fleet
simulation's `target/fleet/results.json` (one JSON object a line, written by
`bench/benches/fleet.rs`); every number written comes from those files (or from the machine:
lscpu, rustc, Cargo.lock). Standard library only. Usage, from anywhere: `bench/run.sh` (runs
every benchmark, then this) or `bench/fleet.sh` (the fleet only, then this).

`target` is `$CARGO_TARGET_DIR` when set; `$PUSHTIMER_FLEET_OUT` names another fleet results
file (the simulation writes there too). When one of the two kinds of results is missing, its
sections are kept as they are in the existing BENCHMARKS.md, so that running only the fleet
(or only criterion) does not drop the other's sections. The sections of `HAND_HEADINGS`,
measured by hand (each says how), are always kept as they are, after the others.
"""

import datetime
import json
import os
import subprocess
import sys
import textwrap
import tomllib

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
CRITERION = os.path.join(TARGET, "criterion")
FLEET_RESULTS = os.environ.get("PUSHTIMER_FLEET_OUT") or os.path.join(
    TARGET, "fleet", "results.json"
)
FLEET_HEADING = "## Fleet: one Pushgateway, many jobs"
# Sections measured by hand, outside criterion and the fleet simulation (each says how): kept
# as they are in the existing BENCHMARKS.md, after the others.
HAND_HEADINGS = [
    "## Remote write: one large final write",
    "## The `#[timed]` redesign: before and after, same machine",
    "## The house rebuilt around destinations: before and after, same machine",
]
OUTPUT = os.path.join(ROOT, "BENCHMARKS.md")
PEERS_NOT_BUILT = os.path.join(BENCH_DIR, "PEERS_NOT_BUILT.md")

# The `overhead` group, in the order of the table, with what each benchmark times.
OVERHEAD = [
    ("floor", "two `Instant::now()` + one relaxed `fetch_add` into a static `AtomicU64`"),
    ("pushtimer", '`#[pushtimer::timed(name = "bench_pushtimer")]`'),
    ("pushtimer_result", '`#[pushtimer::timed]` on a function returning `Result` (outcome from the value)'),
    ("pushtimer_quantiles", "`#[pushtimer::timed(quantiles(0.5, 0.9, 0.99))]` (one more `fetch_add` into a log-linear bucket)"),
    ("pushtimer_histogram", "`#[pushtimer::timed(histogram)]` (default buckets: a branch-free count of the bounds below, then that bucket's `fetch_add` instead of the count's)"),
    ("pushtimer_native_histogram", "`#[pushtimer::timed(native_histogram)]` (schema 5: the bucket from a table over the mantissa and one comparison, then its `fetch_add` instead of the count's)"),
    ("prometheus_histogram_timer", "`prometheus` `Histogram::start_timer()` + drop (default buckets)"),
    ("prometheus_histogram_vec", '`prometheus` `HistogramVec::with_label_values(&["x"]).observe(secs)`'),
    ("metrics_histogram", '`metrics::histogram!("bench_metrics").record(secs)`, `metrics-exporter-prometheus` recorder'),
    ("autometrics", "`#[autometrics]`, prometheus 0.14 backend"),
    ("metered", "`#[measure(ResponseTime)]` in a `#[metered(registry = ...)]` impl"),
]
# The counters of the `overhead` group, against `relaxed_atomic_add`.
COUNTING = [
    ("relaxed_atomic_add", "one relaxed `fetch_add` into a static `AtomicU64`: the floor of any counter"),
    ("pushtimer_counter", '`pushtimer::count!("bench_pushtimer_counter", n)` (the call-site form)'),
    ("pushtimer_counter_handle", "`pushtimer::Counter::inc_by(n)` on a handle the caller keeps"),
    ("prometheus_int_counter", "`prometheus` `IntCounter::inc_by(n)` on a handle the caller keeps (one shared atomic)"),
    ("metrics_counter", '`metrics::counter!("bench_metrics_counter").increment(n)`, `metrics-exporter-prometheus` recorder'),
]
SCALING = [
    ("1_thread", 1),
    ("2_threads", 2),
    ("pushtimer_counter_1_thread", 1),
    ("pushtimer_counter_2_threads", 2),
]
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
    ("encode_protobuf_10000_native_histograms_and_20000_series", "the gateway's body (delimited protobuf) of those and 10,000 native histogram series (schema 5, about 40 buckets each): rendering and encoding"),
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


def load_memory():
    """The rows of `target/series_memory.json`, or None when it was not run."""
    path = os.path.join(TARGET, "series_memory.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


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
    for bench_id in ["pushtimer_result", "pushtimer_quantiles", "pushtimer_histogram", "pushtimer_native_histogram"]:
        limit = 1.1 if bench_id == "pushtimer_result" else 1.5
        row(f"`{bench_id}` ≤ {limit} × `pushtimer`",
            ratio(ns_of("overhead", bench_id), pushtimer), "{:.2f} ×", lambda r, limit=limit: r <= limit)
    row("2 threads ≥ 1.9 × the throughput of 1 thread",
        ratio(rate_of("2_threads"), rate_of("1_thread")), "{:.2f} ×", lambda r: r >= 1.9)
    row("`pushtimer_counter` ≤ 1.2 × `relaxed_atomic_add`",
        ratio(ns_of("overhead", "pushtimer_counter"), ns_of("overhead", "relaxed_atomic_add")),
        "{:.2f} ×", lambda r: r <= 1.2)
    row("`count!` from 2 threads ≥ 1.9 × the throughput of 1 thread",
        ratio(rate_of("pushtimer_counter_2_threads"), rate_of("pushtimer_counter_1_thread")),
        "{:.2f} ×", lambda r: r >= 1.9)
    for bench_id, _ in PUSH_ACTIVITY:
        busy = ns_of("push_activity", bench_id)
        row(f"`push_activity/{bench_id}` within 10% of `overhead/pushtimer`",
            ratio(busy, pushtimer), "{:.2f} ×", lambda r: r <= 1.1)
    return rows


def criterion_sections():
    """Every section but the fleet's, from criterion's results."""
    out = []
    w = out.append
    w("# Benchmarks")
    w("")
    w("Written by `bench/report.py` from criterion's results; every number below comes from")
    w("`target/criterion/*/new/estimates.json` (the mean, with its 95% confidence interval),")
    w("except in the fleet section, which comes from the fleet simulation's")
    w("`target/fleet/results.json`, and in sections measured by hand, which say how.")
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
    w("bench/run.sh     # every benchmark, then python3 bench/report.py")
    w("bench/fleet.sh   # only the fleet simulation (about 35 minutes), then the report")
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

    # --- counting -------------------------------------------------------------------------
    w("## Counting (`overhead` group, one thread)")
    w("")
    w("One count of 1 (a `black_box`ed amount) per call of a non-inlined function, against the")
    w("least any counter can do: one relaxed atomic add.")
    w("")
    add = load("overhead", "relaxed_atomic_add")
    add_ns = mean(add[0])[0] if add else None
    w("| benchmark | what is counted | mean ns/count | 95% CI | × atomic add |")
    w("|---|---|---:|---|---:|")
    for bench_id, what in COUNTING:
        result = load("overhead", bench_id)
        if result is None:
            w(f"| `{bench_id}` | {what} | not run | | |")
            continue
        ns, low, high = mean(result[0])
        ratio = f"{ns / add_ns:.2f}" if add_ns else "n/a"
        w(f"| `{bench_id}` | {what} | {ns:.1f} | {low:.1f} – {high:.1f} | {ratio} |")
    w("")

    # --- scaling --------------------------------------------------------------------------
    w("## Scaling (`scaling` group)")
    w("")
    w("The `#[timed]` function called from 1 thread, and from 2 threads at once (same series),")
    w("started together by a barrier; timed from the barrier's release until every thread has")
    w("finished. The `pushtimer_counter_*` rows do the same with one `count!` (one counter) per")
    w("call; their \"× 1 thread\" is against `pushtimer_counter_1_thread`.")
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

    # --- memory per series ----------------------------------------------------------------
    w("## Memory per series (`series_memory`)")
    w("")
    w("Heap bytes one more series holds (its shards, name, labels and the registry's entry),")
    w("from a counting allocator over 1,000 series of each kind, with the shards of a machine of")
    w("2 and of 16 CPUs; \"recorded\" is after a thread per shard recorded into every series (a")
    w("quantile sketch grows on first use). Multiply by `PUSHTIMER_CARDINALITY_LIMIT` (2,000) for")
    w("the most one metric name can hold.")
    w("")
    memory = load_memory()
    if not memory:
        w("Not run (`cargo bench -p pushtimer-bench --bench series_memory`).")
    else:
        kinds = []
        for row in memory:
            if row["kind"] not in kinds:
                kinds.append(row["kind"])
        by = {(row["kind"], row["cpus"]): row for row in memory}
        w("| series | 2 CPUs: registered | recorded | 16 CPUs: registered | recorded |")
        w("|---|---:|---:|---:|---:|")
        for kind in kinds:
            cells = []
            for cpus in (2, 16):
                row = by.get((kind, cpus))
                cells.extend([f"{row['registered']:,.0f} B", f"{row['recorded']:,.0f} B"] if row else ["", ""])
            w(f"| {kind} | " + " | ".join(cells) + " |")
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
    return out


# --- the fleet simulation -------------------------------------------------------------------

# A run is healthy when fewer than this share of its pushes failed...
HEALTHY_FAILURES = 0.01
# ... and 99 % of its pushes took less than this (ms).
HEALTHY_P99_MS = 1000.0

FLEET_INTRO = """\
`bench/benches/fleet.rs` (run by `bench/fleet.sh`) starts a real Pushgateway on loopback,
fresh for every run and without persistence, then N simulated batch jobs: N threads, each
with its own `pushtimer::Pusher` and its own group (`fleet_job_<i>/instance/sim-<i>`),
pushing (HTTP PUT) an exposition shaped like pushtimer's: the run's three gauges
(`pushtimer_job_start_timestamp_seconds`, ...), one histogram with the default buckets and
summaries with `_count` and `_sum` per `outcome`, with HELP and TYPE lines and new values on
every push, gzip-compressed on the wire as the runtime sends it. Two policies:

- `fixed`: every job starts at the same instant and waits exactly the interval after each
  push, as the push thread did before pacing (a CronJob fleet started on the same minute);
- `paced`: the runtime's own `Pacing`, fed as the push thread feeds it: a random first wait
  between a tenth of the interval and the interval, then the interval ± 20 %; a push that
  failed from strain (429, 5xx, timeout, no connection) or took more than a quarter of the
  interval at least doubles the interval, to four times what it took if that is more (up to
  16 ×, at most 5 minutes), and each healthy one shrinks it by a third.

Counted are the pushes started in the measurement window, after a warm-up; latency is the
time of each `Pusher::push` call (its retries included, failed calls too). CPU is utime +
stime from `/proc` over the window, in cores: the gateway, the simulator (the jobs share the
machine's cores with the gateway), and the rest of the machine's busy time (`others`: other
processes, the kernel). `nocheck` runs start the gateway with
`--push.disable-consistency-check`.
"""


def load_fleet():
    """(suite, runs, end) from the fleet results file, or None when there are no runs."""
    try:
        with open(FLEET_RESULTS, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except (OSError, json.JSONDecodeError):
        return None
    suite = next((x for x in lines if x.get("kind") == "suite"), {})
    runs = [x for x in lines if x.get("kind") == "run"]
    end = next((x for x in lines if x.get("kind") == "end"), None)
    return (suite, runs, end) if runs else None


def fmt_ms(ms):
    if ms is None:
        return "–"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def fmt_num(x, digits=0):
    return "–" if x is None else f"{x:,.{digits}f}"


def fmt_interval(seconds):
    return f"{seconds:g} s"


def failure_rate(run):
    attempted = run.get("attempted") or 0
    return run.get("failed", 0) / attempted if attempted else None


def fmt_rate(rate):
    if rate is None:
        return "–"
    if 0 < rate < 0.001:
        return "<0.1 %"
    return f"{rate * 100:.1f} %"


def checked(run):
    """Whether the run's gateway did its consistency check (its default)."""
    if "consistency_check" in run:
        return run["consistency_check"]
    return "--push.disable-consistency-check" not in run.get("gateway_args", "")


def para(text, bullet=False):
    """A paragraph (or a bullet item) wrapped as the prose above is."""
    if bullet:
        return textwrap.fill(text, width=95, initial_indent="- ", subsequent_indent="  ")
    return textwrap.fill(text, width=95)


def healthy(run):
    rate = failure_rate(run)
    p99 = run.get("latency_p99_ms")
    return rate is not None and rate < HEALTHY_FAILURES and p99 is not None and p99 < HEALTHY_P99_MS


def cpu_ms_per_push(run):
    """Gateway CPU per push attempted in the window, in ms."""
    cores, rate = run.get("gateway_cpu_cores"), run.get("attempted_per_s")
    return cores / rate * 1000 if cores is not None and rate else None


def describe(run):
    return (f"{run['jobs']:,} jobs every {fmt_interval(run['interval_s'])}, "
            f"`{run['policy']}`{'' if checked(run) else ', `nocheck`'}")


def fleet_section(suite, runs, end):
    out = []
    w = out.append
    w(FLEET_HEADING)
    w("")
    w(FLEET_INTRO.rstrip())
    w("")
    w("### Setup")
    w("")
    lscpu = run(["lscpu"]) or ""
    fields = {}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    cpus = suite.get("cpus") or fields.get("CPU(s)", "?")
    w(f"- Machine: {fields.get('Model name', 'unknown')}, {cpus} cores seen by the simulator "
      f"(gateway and jobs share them)")
    versions = sorted({r.get("gateway_version", "") for r in runs} - {""})
    w(f"- Gateway: `{'`, `'.join(versions) or suite.get('gateway_version', 'unknown')}`, started as "
      "`prometheus-pushgateway --web.listen-address=127.0.0.1:<free port> --persistence.file=`")
    series = sorted({r["series"] for r in runs})
    body = sorted({r.get("body_bytes") for r in runs} - {None})
    w(f"- Each push: {' / '.join(str(s) for s in series)} sample lines "
      f"({' / '.join(f'{b:,}' for b in body)} bytes of text before gzip); deadline "
      f"{fmt_interval(runs[0].get('timeout_s', 5))} per push, retries included (the runtime's default)")
    warm = sorted({(r["interval_s"], r["warmup_s"], r["measure_s"]) for r in runs})
    w("- Warm-up and measurement: " + "; ".join(
        f"{fmt_interval(m)} after {fmt_interval(wu)} at {fmt_interval(i)}" for i, wu, m in warm))
    if suite.get("open_files_limit"):
        w(f"- Open-files limit of the simulator: {suite['open_files_limit']:,.0f}")
    started = suite.get("started_unix")
    if started:
        when = datetime.datetime.fromtimestamp(started, datetime.timezone.utc)
        line = f"- Suite run: {when.strftime('%Y-%m-%d %H:%M UTC')}"
        if end and end.get("total_s"):
            minutes, seconds = divmod(round(end["total_s"]), 60)
            line += f", {len(runs)} runs in {minutes} min {seconds} s"
        else:
            line += f", {len(runs)} runs (the suite did not finish)"
        w(line)
    w("")

    # --- results --------------------------------------------------------------------------
    w("### Results")
    w("")
    w(para(f"Healthy (**bold**): fewer than {HEALTHY_FAILURES * 100:g} % of the pushes failed and p99 "
           f"below {fmt_ms(HEALTHY_P99_MS)}. `offered/s`: jobs over the interval. `ok/s`: pushes "
           "that succeeded, per second of the window. `gw ms/push`: the gateway's CPU over the "
           "pushes attempted. `stretch`: for `paced`, the mean interval at the end over the "
           "setting, and how many jobs were stretched."))
    w("")
    groups = []
    for run_ in runs:
        key = (checked(run_), run_["interval_s"])
        if key not in groups:
            groups.append(key)
    for check, interval in groups:
        w(f"#### Every {fmt_interval(interval)}, consistency check "
          f"{'on (the default)' if check else 'off (`--push.disable-consistency-check`)'}")
        w("")
        w("| run | jobs | offered/s | attempted/s | ok/s | failed | p50 | p99 | max "
          "| gw CPU | gw ms/push | gw RSS (peak) | sim CPU | others | stretch |")
        w("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in runs:
            if (checked(r), r["interval_s"]) != (check, interval):
                continue
            name = f"`{r['policy']}`"
            if healthy(r):
                name = f"**{name}**"
            kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(r.get("failures", {}).items()))
            failed = f"{r['failed']:,} ({fmt_rate(failure_rate(r))})"
            if kinds:
                failed += f": {kinds}"
            rss = f"{fmt_num(r.get('gateway_rss_mib'))} ({fmt_num(r.get('gateway_peak_rss_mib'))}) MiB"
            stretch = "–"
            if r.get("paced_stretch_mean") is not None:
                stretch = (f"{r['paced_stretch_mean']:.1f} × ({r.get('paced_jobs_stretched') or 0:,.0f} "
                           f"of {r['jobs']:,})")
            w(f"| {name} | {r['jobs']:,} | {fmt_num(r.get('offered_per_s'))} "
              f"| {fmt_num(r.get('attempted_per_s'))} | {fmt_num(r.get('pushes_per_s'))} | {failed} "
              f"| {fmt_ms(r.get('latency_p50_ms'))} | {fmt_ms(r.get('latency_p99_ms'))} "
              f"| {fmt_ms(r.get('latency_max_ms'))} | {fmt_num(r.get('gateway_cpu_cores'), 2)} "
              f"| {fmt_num(cpu_ms_per_push(r), 1)} | {rss} "
              f"| {fmt_num(r.get('simulator_cpu_cores'), 2)} | {fmt_num(r.get('other_cpu_cores'), 2)} "
              f"| {stretch} |")
        w("")

    # --- guidance -------------------------------------------------------------------------
    w("### Guidance")
    w("")
    w(para(f"A run counts as healthy when fewer than {HEALTHY_FAILURES * 100:g} % of its pushes failed "
           f"and 99 % of them took less than {fmt_ms(HEALTHY_P99_MS)}. X below is the highest "
           "rate of pushes that succeeded in a healthy run: a lower bound of what the gateway "
           "takes from a fleet of that size. The lightest load it did not take shows where it "
           "stopped, for the fleet named there."))
    w("")
    cores = cpus
    for check in [True, False]:
        mode = [r for r in runs if checked(r) == check]
        if not mode:
            continue
        label = ("with its default consistency check" if check
                 else "started with `--push.disable-consistency-check`")
        good = [r for r in mode if healthy(r)]
        bad = [r for r in mode if not healthy(r)]
        if good:
            best = max(good, key=lambda r: r["pushes_per_s"])
            line = (f"**One Pushgateway on {cores} cores, {label}, takes about "
                    f"{best['pushes_per_s']:,.0f} pushes/s of {best['series']} series from a fleet "
                    f"of {best['jobs']:,} jobs** (X, from {describe(best)}: p99 "
                    f"{fmt_ms(best['latency_p99_ms'])}, {fmt_rate(failure_rate(best))} failed)")
        else:
            line = f"One Pushgateway on {cores} cores, {label}: no run was healthy"
        if bad:
            worst = min(bad, key=lambda r: r["offered_per_s"])
            line += (f"; the lightest load it did not take was {worst['offered_per_s']:,.0f} "
                     f"pushes/s offered ({describe(worst)}: {fmt_rate(failure_rate(worst))} "
                     f"failed, p99 {fmt_ms(worst['latency_p99_ms'])})")
        line += "."
        default = [r for r in mode if r["interval_s"] == 15]
        if default:
            sizes = []
            for jobs in sorted({r["jobs"] for r in default}):
                these = [r for r in default if r["jobs"] == jobs]
                verdicts = "; ".join(
                    f"{r['policy']}: {'healthy' if healthy(r) else 'not healthy'}, "
                    f"{fmt_rate(failure_rate(r))} failed, p99 {fmt_ms(r['latency_p99_ms'])}"
                    for r in these)
                sizes.append(f"{jobs:,} jobs ({verdicts})")
            line += " At the default 15 s interval: " + "; ".join(sizes) + "."
        # Runs where every push was answered (whatever the latency): their CPU per push is the
        # gateway's cost of one push at that fleet size.
        answered = [r for r in mode if (failure_rate(r) or 0) < HEALTHY_FAILURES
                    and r.get("attempted") and cpu_ms_per_push(r)]
        costs = {}
        for r in answered:
            costs.setdefault(r["jobs"], []).append(cpu_ms_per_push(r))
        costs = sorted((j, sum(c) / len(c)) for j, c in costs.items())
        if check and len(costs) >= 2:
            line += (" Its CPU per push grew with the groups it held: "
                     + ", ".join(f"{c:.1f} ms at {j:,} jobs" for j, c in costs)
                     + f" (runs with fewer than {HEALTHY_FAILURES * 100:g} % failed, mean over "
                     "policies and intervals), so the rate it takes falls as the fleet grows")
            most = max(r["gateway_cpu_cores"] for r in mode if r.get("gateway_cpu_cores") is not None)
            line += f"; and its CPU never exceeded {most:.2f} cores, however many jobs pushed."
        shared = [r for r in good + bad if r.get("gateway_cpu_cores") is not None
                  and r.get("simulator_cpu_cores") is not None
                  and r["gateway_cpu_cores"] + r["simulator_cpu_cores"] + (r.get("other_cpu_cores") or 0)
                  >= 0.9 * float(cores)]
        if shared:
            line += (" The machine itself was nearly saturated in "
                     + ", ".join(f"`{r['name']}` (gateway {r['gateway_cpu_cores']:.2f} + simulator "
                                 f"{r['simulator_cpu_cores']:.2f} + others "
                                 f"{r.get('other_cpu_cores') or 0:.2f} cores)" for r in shared)
                     + f": with the {cores} cores to itself the gateway would take more.")
        w(para(line, bullet=True))
    w("")
    w(para("Why the check costs so: for every push, the gateway's single write loop copies the "
           "map of every group it holds and gathers all of them together with the new push, to "
           "prove the result consistent (`checkWriteRequest` in `storage/diskmetricstore.go`); "
           "requests wait in its write queue meanwhile. `--push.disable-consistency-check` skips "
           "that (a good push is then answered 202), and the gateway's own help calls it "
           "DANGEROUS: an inconsistent push (say, a type clash with another group) is then "
           "accepted instead of refused with 400, and the inconsistency only shows when the "
           "gateway's metrics are gathered for a scrape."))
    w("")

    # --- backoff --------------------------------------------------------------------------
    pairs = []
    for r in runs:
        if r["policy"] != "fixed":
            continue
        twin = next((p for p in runs if p["policy"] == "paced" and p["jobs"] == r["jobs"]
                     and p["interval_s"] == r["interval_s"]
                     and checked(p) == checked(r)), None)
        if twin:
            pairs.append((r, twin))
    if pairs:
        w("### Backoff: `fixed` against `paced`")
        w("")
        w("| jobs, interval, gateway | policy | attempted/s | ok/s | failed | p50 | p99 | gw CPU | gw RSS |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for fixed, paced in pairs:
            where = (f"{fixed['jobs']:,}, {fmt_interval(fixed['interval_s'])}"
                     f"{'' if checked(fixed) else ', `nocheck`'}")
            for r in (fixed, paced):
                w(f"| {where} | `{r['policy']}` | {fmt_num(r.get('attempted_per_s'))} "
                  f"| {fmt_num(r.get('pushes_per_s'))} | {fmt_rate(failure_rate(r))} "
                  f"| {fmt_ms(r.get('latency_p50_ms'))} | {fmt_ms(r.get('latency_p99_ms'))} "
                  f"| {fmt_num(r.get('gateway_cpu_cores'), 2)} | {fmt_num(r.get('gateway_rss_mib'))} MiB |")
        w("")
        # The comparison the defaults are about: 1,000 jobs at the default interval, else at 1 s.
        key = next(((f, p) for f, p in pairs if f["jobs"] == 1000 and f["interval_s"] == 15
                    and checked(f)), None) or next(
            ((f, p) for f, p in pairs if f["jobs"] == 1000 and f["interval_s"] == 1
             and checked(f)), None)
        if key:
            f, p = key
            w(para(f"At 1,000 jobs every {fmt_interval(f['interval_s'])} (default gateway, "
              f"measured for {fmt_interval(f.get('measure_s', 0))} after "
              f"{fmt_interval(f.get('warmup_s', 0))} of warm-up), `fixed` failed "
              f"{fmt_rate(failure_rate(f))} of its pushes (p50 {fmt_ms(f['latency_p50_ms'])}, p99 "
              f"{fmt_ms(f['latency_p99_ms'])}) and `paced` {fmt_rate(failure_rate(p))} (p50 "
              f"{fmt_ms(p['latency_p50_ms'])}, p99 {fmt_ms(p['latency_p99_ms'])}); backoff cut the "
              f"pushes attempted from {f['attempted_per_s']:,.0f}/s to {p['attempted_per_s']:,.0f}/s "
              f"(mean interval {p.get('paced_stretch_mean') or 1:.1f} × the setting at the end), and "
              f"the gateway ended with {fmt_num(p.get('gateway_rss_mib'))} MiB resident against "
              f"{fmt_num(f.get('gateway_rss_mib'))} MiB."
              + (f" Even stretched {p['paced_stretch_mean']:.0f} ×, the fleet still offered "
                 f"{p['jobs'] / p['interval_s'] / p['paced_stretch_mean']:,.0f} pushes/s, while the "
                 f"gateway completed {completed_per_s(p):,.0f} pushes/s over the whole run, "
                 f"{'most' if gateway_2xx(p) - p.get('run_succeeded', 0) > gateway_2xx(p) / 2 else 'some'}"
                 " of them for jobs that had given up (see below)."
                 if p.get("paced_stretch_mean") and failure_rate(p) and completed_per_s(p)
                 and p["jobs"] / p["interval_s"] / p["paced_stretch_mean"] > completed_per_s(p)
                 else "")))
            w("")
        helped = []
        for f, p in pairs:
            if failure_rate(f) == 1 and failure_rate(p) == 1:
                continue
            helped.append(
                    f"{f['jobs']:,} jobs every {fmt_interval(f['interval_s'])}"
                    f"{'' if checked(f) else ' (`nocheck`)'}: failed {fmt_rate(failure_rate(f))} → "
                    f"{fmt_rate(failure_rate(p))}, p50 {fmt_ms(f['latency_p50_ms'])} → "
                    f"{fmt_ms(p['latency_p50_ms'])}, p99 {fmt_ms(f['latency_p99_ms'])} → "
                f"{fmt_ms(p['latency_p99_ms'])}")
        if helped:
            w(para("Pair by pair, `fixed` → `paced`, leaving out the pairs where both failed every "
                   "push: " + "; ".join(helped) + "."))
            w("")

    # --- the gateway's side ---------------------------------------------------------------
    w("### The gateway's side")
    w("")
    w(para("Whole runs (warm-up and the last pushes included): the pushes the jobs saw succeed, "
           "the push requests the gateway counted as answered with 2xx "
           "(`pushgateway_http_requests_total{handler=\"push\"}`), and what it still held when "
           "the jobs had stopped. More 2xx than successes are pushes the gateway completed after "
           "the job had given up on them."))
    w("")
    w("| run | jobs ok | gateway 2xx | goroutines after | open fds after | last push ended |")
    w("|---|---:|---:|---:|---:|---:|")
    for r in runs:
        counts = r.get("gateway_counts", {})
        ok = gateway_2xx(r)
        w(f"| `{r['name']}` | {r.get('run_succeeded', 0):,} | {ok:,.0f} "
          f"| {fmt_num(counts.get('go_goroutines'))} | {fmt_num(counts.get('process_open_fds'))} "
          f"| {r.get('drain_s', 0):.1f} s after the window |")
    w("")
    late = []
    for r in runs:
        ok = gateway_2xx(r)
        if ok > r.get("run_succeeded", 0):
            late.append((ok - r.get("run_succeeded", 0), ok, r))
    if late:
        wasted = sum(x[0] for x in late)
        done = sum(x[1] for x in late)
        held = max(r.get("gateway_counts", {}).get("go_goroutines", 0) for _, _, r in late)
        w(para(f"In the {len(late)} runs where pushes timed out, {wasted:,.0f} of the {done:,.0f} "
               "pushes the gateway completed were for jobs that had already given up, and it still "
               f"held up to {held:,.0f} goroutines (mostly push requests still waiting for its write "
               "loop) when the jobs stopped: an overloaded gateway keeps spending its one write "
               "loop on requests nobody waits for, which is how the runs above its limit ended "
               "with almost no push succeeding."))
        w("")
    return out


def gateway_2xx(run):
    """Push requests the gateway answered with 2xx over the whole run (its own count)."""
    counts = run.get("gateway_counts", {})
    return sum(v for k, v in counts.items()
               if k.startswith("push_") and k.rsplit("_", 1)[-1].startswith("2"))


def completed_per_s(run):
    """The gateway's 2xx pushes per second over the whole run (warm-up to the last push)."""
    seconds = run.get("warmup_s", 0) + run.get("measure_s", 0) + run.get("drain_s", 0)
    return gateway_2xx(run) / seconds if seconds else None


def split_fleet(text):
    """(everything but the fleet section, the fleet section) of an existing BENCHMARKS.md."""
    lines = text.split("\n")
    try:
        start = lines.index(FLEET_HEADING)
    except ValueError:
        return lines, []
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[:start] + lines[end:], lines[start:end]


def split_hand(text):
    """(the text without the hand-written sections, those sections' lines) of BENCHMARKS.md."""
    lines = text.split("\n")
    kept = []
    for heading in HAND_HEADINGS:
        if heading not in lines:
            continue
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        kept.extend(lines[start:end])
        lines = lines[:start] + lines[end:]
    return "\n".join(lines), kept


def main():
    have_criterion = os.path.isdir(CRITERION)
    fleet = load_fleet()
    if not have_criterion and fleet is None:
        sys.exit(f"no criterion results in {CRITERION} and no fleet results in {FLEET_RESULTS}: "
                 "run bench/run.sh or bench/fleet.sh first")
    try:
        with open(OUTPUT, encoding="utf-8") as f:
            rest, kept_hand = split_hand(f.read())
            kept_main, kept_fleet = split_fleet(rest)
    except OSError:
        kept_main, kept_fleet, kept_hand = [], [], []
    if have_criterion:
        out = criterion_sections()
    else:
        print(f"no criterion results in {CRITERION}: keeping those sections of {OUTPUT}")
        out = kept_main
    while out and out[-1] == "":
        out.pop()
    out.append("")
    if fleet is not None:
        out.extend(fleet_section(*fleet))
    elif kept_fleet:
        print(f"no fleet results in {FLEET_RESULTS}: keeping that section of {OUTPUT}")
        out.extend(kept_fleet)
    while out and out[-1] == "":
        out.pop()
    if kept_hand:
        out.append("")
        out.extend(kept_hand)
        while out and out[-1] == "":
            out.pop()
    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
