//! Per-call cost of timing a trivial function: pushtimer's `#[timed]` against a bare floor
//! (two clock reads and one atomic add) and against the usual ways of timing a call with the
//! peer crates. Every benchmark runs the same body; only the timing around it differs.
//!
//! Group `overhead`: one thread, ns per call; also the cost of one count: `count!` against a
//! bare relaxed atomic add and the peers' counters. Group `scaling`: the `#[timed]` function
//! (and `count!`) called from one thread and from two threads at once (the same series, so the
//! same atomics), reported as calls per second. Group `clock`: one `Instant::now()`, for
//! reference.
//!
//! Run with `cargo bench -p pushtimer-bench`, then `python3 bench/report.py`.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The work being timed: the same few integer operations in every benchmark.
#[inline(never)]
fn body(x: u64) -> u64 {
    black_box(x).wrapping_mul(31).rotate_left(7) ^ 0x5bd1e995
}

// ---------------------------------------------------------------------------------------------
// floor: the least any timer has to do.

static FLOOR_NANOS: AtomicU64 = AtomicU64::new(0);

#[inline(never)]
fn floor(x: u64) -> u64 {
    let start = Instant::now();
    let out = body(x);
    let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    FLOOR_NANOS.fetch_add(nanos, Ordering::Relaxed);
    out
}

// ---------------------------------------------------------------------------------------------
// counting: the least a count can do, and the ways to count

static COUNT_FLOOR: AtomicU64 = AtomicU64::new(0);

/// One relaxed atomic add into a static: the floor of any counter.
#[inline(never)]
fn count_floor(n: u64) {
    COUNT_FLOOR.fetch_add(n, Ordering::Relaxed);
}

/// One `count!`: the call-site form, its counter cached in a `static`.
#[inline(never)]
fn with_pushtimer_counter(n: u64) {
    pushtimer::count!("bench_pushtimer_counter", n);
}

/// One `Counter::inc_by` on a handle kept by the caller.
#[inline(never)]
fn with_pushtimer_counter_handle(counter: &pushtimer::Counter, n: u64) {
    counter.inc_by(n);
}

/// A `prometheus` `IntCounter`, registered once, the handle kept by the caller.
fn prometheus_int_counter() -> &'static prometheus::IntCounter {
    static COUNTER: OnceLock<prometheus::IntCounter> = OnceLock::new();
    COUNTER.get_or_init(|| {
        prometheus::IntCounter::new("bench_prometheus_counter", "Counts.").expect("a valid counter")
    })
}

#[inline(never)]
fn with_prometheus_int_counter(counter: &prometheus::IntCounter, n: u64) {
    counter.inc_by(n);
}

/// The `metrics` crate's call-site form (with the `metrics-exporter-prometheus` recorder).
#[inline(never)]
fn with_metrics_counter(n: u64) {
    metrics::counter!("bench_metrics_counter").increment(n);
}

// ---------------------------------------------------------------------------------------------
// pushtimer

#[pushtimer::timed(name = "bench_pushtimer")]
#[inline(never)]
fn with_pushtimer(x: u64) -> u64 {
    body(x)
}

/// A timed function with whole-run quantiles.
#[pushtimer::timed(name = "bench_pushtimer_quantiles", quantiles(0.5, 0.9, 0.99))]
#[inline(never)]
fn with_pushtimer_quantiles(x: u64) -> u64 {
    body(x)
}

/// A timed function feeding a native histogram (default schema).
#[pushtimer::timed(name = "bench_pushtimer_native", native_histogram)]
#[inline(never)]
fn with_pushtimer_native(x: u64) -> u64 {
    body(x)
}

/// A timed function feeding a histogram with the default buckets.
#[pushtimer::timed(name = "bench_pushtimer_histogram", histogram)]
#[inline(never)]
fn with_pushtimer_histogram(x: u64) -> u64 {
    body(x)
}

/// A timed function returning a `Result`: the call's outcome (`ok` or `error`) is read from the
/// value it returns.
#[pushtimer::timed(name = "bench_pushtimer_result")]
#[inline(never)]
fn with_pushtimer_result(x: u64) -> Result<u64, u64> {
    let y = body(x);
    if y == u64::MAX { Err(y) } else { Ok(y) }
}

// ---------------------------------------------------------------------------------------------
// prometheus: a histogram timer, and a labelled histogram observed by hand.

fn prometheus_histogram() -> &'static prometheus::Histogram {
    static HISTOGRAM: OnceLock<prometheus::Histogram> = OnceLock::new();
    HISTOGRAM.get_or_init(|| {
        let histogram = prometheus::Histogram::with_opts(prometheus::HistogramOpts::new(
            "bench_prometheus_timer_seconds",
            "Benchmark histogram (default buckets).",
        ))
        .expect("valid histogram");
        prometheus::default_registry()
            .register(Box::new(histogram.clone()))
            .expect("register histogram");
        histogram
    })
}

#[inline(never)]
fn with_prometheus_timer(x: u64) -> u64 {
    let _timer = prometheus_histogram().start_timer();
    body(x)
}

fn prometheus_histogram_vec() -> &'static prometheus::HistogramVec {
    static HISTOGRAM_VEC: OnceLock<prometheus::HistogramVec> = OnceLock::new();
    HISTOGRAM_VEC.get_or_init(|| {
        let vec = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new(
                "bench_prometheus_vec_seconds",
                "Benchmark histogram vec (default buckets).",
            ),
            &["function"],
        )
        .expect("valid histogram vec");
        prometheus::default_registry()
            .register(Box::new(vec.clone()))
            .expect("register histogram vec");
        vec
    })
}

#[inline(never)]
fn with_prometheus_vec(x: u64) -> u64 {
    let start = Instant::now();
    let out = body(x);
    prometheus_histogram_vec()
        .with_label_values(&["x"])
        .observe(start.elapsed().as_secs_f64());
    out
}

// ---------------------------------------------------------------------------------------------
// metrics + metrics-exporter-prometheus

/// Installs the Prometheus recorder globally, once, with a thread doing the periodic upkeep
/// (draining histogram samples) every 5 s as the exporter's own listener would; without it
/// the samples of hundreds of millions of calls would pile up in memory.
fn metrics_recorder() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: OnceLock<metrics_exporter_prometheus::PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .expect("install the metrics recorder");
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            })
            .expect("spawn the upkeep thread");
        handle
    })
}

#[inline(never)]
fn with_metrics(x: u64) -> u64 {
    let start = Instant::now();
    let out = body(x);
    metrics::histogram!("bench_metrics").record(start.elapsed().as_secs_f64());
    out
}

// ---------------------------------------------------------------------------------------------
// autometrics, prometheus 0.14 backend (its default registry)

#[autometrics::autometrics]
#[inline(never)]
fn with_autometrics(x: u64) -> u64 {
    body(x)
}

// ---------------------------------------------------------------------------------------------
// metered: ResponseTime (an HdrHistogram) on a method.

#[derive(Default, Debug)]
struct Metered {
    metrics: MeteredMetrics,
}

#[metered::metered(registry = MeteredMetrics)]
impl Metered {
    #[measure(metered::ResponseTime)]
    #[inline(never)]
    fn call(&self, x: u64) -> u64 {
        body(x)
    }
}

// ---------------------------------------------------------------------------------------------

/// One call of each, checked to have been recorded: a benchmark of a timer that silently
/// records nothing would be worthless.
fn check_every_timer_records(metered: &Metered) {
    floor(1);
    assert!(FLOOR_NANOS.load(Ordering::Relaxed) > 0);

    with_pushtimer(1);
    let count = pushtimer::render()
        .lines()
        .find_map(|line| line.strip_prefix("bench_pushtimer_seconds_count{outcome=\"ok\"} "))
        .and_then(|count| count.trim().parse::<f64>().ok());
    assert_eq!(count, Some(1.0), "pushtimer recorded the call");

    assert_eq!(with_pushtimer_result(1), Ok(body(1)));
    let count = pushtimer::render()
        .lines()
        .find_map(|line| line.strip_prefix("bench_pushtimer_result_seconds_count{outcome=\"ok\"} "))
        .and_then(|count| count.trim().parse::<f64>().ok());
    assert_eq!(count, Some(1.0), "pushtimer recorded the Result call");

    with_pushtimer_quantiles(1);
    assert!(
        pushtimer::render()
            .contains("bench_pushtimer_quantiles_seconds{outcome=\"ok\",quantile=\"0.99\"}"),
        "pushtimer recorded the call's quantiles"
    );

    with_pushtimer_native(1);
    assert!(
        pushtimer::render().contains("bench_pushtimer_native_seconds_count{outcome=\"ok\"} 1\n"),
        "pushtimer recorded the native histogram call"
    );

    with_pushtimer_histogram(1);
    let count = pushtimer::render()
        .lines()
        .find_map(|line| {
            line.strip_prefix(
                "bench_pushtimer_histogram_seconds_bucket{outcome=\"ok\",le=\"+Inf\"} ",
            )
        })
        .and_then(|count| count.trim().parse::<f64>().ok());
    assert_eq!(count, Some(1.0), "pushtimer recorded the histogram call");

    with_prometheus_timer(1);
    assert_eq!(prometheus_histogram().get_sample_count(), 1);

    with_prometheus_vec(1);
    let series = prometheus_histogram_vec().with_label_values(&["x"]);
    assert_eq!(series.get_sample_count(), 1);

    with_autometrics(1);
    let autometrics_text = prometheus::TextEncoder::new()
        .encode_to_string(&prometheus::default_registry().gather())
        .expect("encode the default registry");
    assert!(
        autometrics_text.lines().any(|line| line
            .starts_with("function_calls_duration_seconds_count{")
            && line.contains("function=\"with_autometrics\"")
            && line.ends_with(" 1")),
        "autometrics recorded the call:\n{autometrics_text}"
    );

    metered.call(1);
    let response_time = format!("{:?}", metered.metrics);
    assert!(
        response_time.contains("samples: 1,"),
        "metered recorded the call: {response_time}"
    );

    count_floor(1);
    assert_eq!(COUNT_FLOOR.load(Ordering::Relaxed), 1);
    with_pushtimer_counter(2);
    let handle = pushtimer::Counter::builder("bench_pushtimer_counter")
        .register()
        .expect("a valid counter");
    with_pushtimer_counter_handle(&handle, 3);
    assert_eq!(
        handle.value(),
        5,
        "count! and the handle count into one counter"
    );
    with_prometheus_int_counter(prometheus_int_counter(), 2);
    assert_eq!(prometheus_int_counter().get(), 2);

    let recorder = metrics_recorder();
    with_metrics_counter(2);
    assert!(
        recorder
            .render()
            .lines()
            .any(|line| line == "bench_metrics_counter 2"),
        "metrics counted"
    );
    with_metrics(1);
    let metrics_text = recorder.render();
    assert!(
        metrics_text
            .lines()
            .any(|line| line == "bench_metrics_count 1"),
        "metrics recorded the call:\n{metrics_text}"
    );
}

fn timing() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

fn overhead(c: &mut Criterion) {
    if std::env::var_os("PUSHGATEWAY_URL").is_some() {
        eprintln!("warning: PUSHGATEWAY_URL is set; pushtimer will push while benchmarking");
    }
    let metered = Metered::default();
    check_every_timer_records(&metered);

    let mut group = c.benchmark_group("overhead");
    group.bench_function("floor", |b| b.iter(|| floor(black_box(7))));
    group.bench_function("pushtimer", |b| b.iter(|| with_pushtimer(black_box(7))));
    group.bench_function("pushtimer_quantiles", |b| {
        b.iter(|| with_pushtimer_quantiles(black_box(7)))
    });
    group.bench_function("pushtimer_histogram", |b| {
        b.iter(|| with_pushtimer_histogram(black_box(7)))
    });
    group.bench_function("pushtimer_native_histogram", |b| {
        b.iter(|| with_pushtimer_native(black_box(7)))
    });
    group.bench_function("pushtimer_result", |b| {
        b.iter(|| with_pushtimer_result(black_box(7)))
    });
    group.bench_function("prometheus_histogram_timer", |b| {
        b.iter(|| with_prometheus_timer(black_box(7)))
    });
    group.bench_function("prometheus_histogram_vec", |b| {
        b.iter(|| with_prometheus_vec(black_box(7)))
    });
    group.bench_function("metrics_histogram", |b| {
        b.iter(|| with_metrics(black_box(7)))
    });
    group.bench_function("autometrics", |b| b.iter(|| with_autometrics(black_box(7))));
    group.bench_function("metered", |b| b.iter(|| metered.call(black_box(7))));
    group.bench_function("relaxed_atomic_add", |b| {
        b.iter(|| count_floor(black_box(1)))
    });
    group.bench_function("pushtimer_counter", |b| {
        b.iter(|| with_pushtimer_counter(black_box(1)))
    });
    let handle = pushtimer::Counter::builder("bench_pushtimer_counter")
        .register()
        .expect("a valid counter");
    group.bench_function("pushtimer_counter_handle", |b| {
        b.iter(|| with_pushtimer_counter_handle(&handle, black_box(1)))
    });
    let int_counter = prometheus_int_counter();
    group.bench_function("prometheus_int_counter", |b| {
        b.iter(|| with_prometheus_int_counter(int_counter, black_box(1)))
    });
    group.bench_function("metrics_counter", |b| {
        b.iter(|| with_metrics_counter(black_box(1)))
    });
    group.finish();
}

/// Calls of the `#[timed]` function per criterion iteration in the scaling group.
const CALLS_PER_ITERATION: u64 = 1_000;

/// Runs `iters * CALLS_PER_ITERATION` calls of `call` split over `threads` threads that start
/// together (released by a barrier) and returns the wall time from the release until all have
/// finished.
fn run_threads(threads: u64, iters: u64, call: fn(u64) -> u64) -> Duration {
    let calls_per_thread = iters * CALLS_PER_ITERATION / threads;
    let barrier = Arc::new(Barrier::new(usize::try_from(threads).unwrap_or(1) + 1));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let mut acc = t;
                    for i in 0..calls_per_thread {
                        acc = acc.wrapping_add(call(black_box(i)));
                    }
                    black_box(acc);
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for worker in workers {
            worker.join().expect("worker thread panicked");
        }
        start.elapsed()
    })
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    group.throughput(Throughput::Elements(CALLS_PER_ITERATION));
    group.bench_function("1_thread", |b| {
        b.iter_custom(|iters| run_threads(1, iters, with_pushtimer))
    });
    group.bench_function("2_threads", |b| {
        b.iter_custom(|iters| run_threads(2, iters, with_pushtimer))
    });
    let count = |i: u64| {
        with_pushtimer_counter(1);
        i
    };
    group.bench_function("pushtimer_counter_1_thread", |b| {
        b.iter_custom(|iters| run_threads(1, iters, count))
    });
    group.bench_function("pushtimer_counter_2_threads", |b| {
        b.iter_custom(|iters| run_threads(2, iters, count))
    });
    group.finish();
}

/// What one `Instant::now()` costs on this machine: every timer above reads the clock twice,
/// so this bounds from below what any of them can cost.
fn clock(c: &mut Criterion) {
    let mut group = c.benchmark_group("clock");
    group.bench_function("instant_now", |b| b.iter(Instant::now));
    group.finish();
}

criterion_group! {
    name = benches;
    config = timing();
    targets = overhead, scaling, clock
}
criterion_main!(benches);
