//! Memory per series: the heap bytes one more series of each kind holds (its shards, its
//! name and labels, the registry's index entry), measured with a counting allocator, on a
//! machine of 2 and of 16 CPUs (the shard count is set as if: one process per size).
//!
//! Each kind gets 1,000 series (a label value apiece); the bytes are counted once they are
//! registered and again after a thread per shard recorded into every one (a summary's quantile
//! sketch, allocated on first use, then holds what it holds in a busy job). Written as JSON to
//! `target/series_memory.json` for `bench/report.py`.
//!
//! Run with `cargo bench -p pushtimer-bench --bench series_memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

/// Bytes allocated and not yet freed, by every thread.
static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting what is live.
struct Counting;

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s
// contract; the counting is an atomic add on the side that touches no allocated memory.
// Unavoidable: a global allocator is an `unsafe` trait, and counting every allocation of the
// runtime (its `Box::leak`ed series) needs one.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's `layout` is passed on as it came.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this `layout` (every allocation is).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Series of each kind measured.
const SERIES: usize = 1_000;

/// What one kind's series hold: bytes per series registered, and after every shard recorded.
fn measure(kind: &str, shards: usize, register: impl Fn(usize) -> Box<dyn Fn() + Sync>) -> String {
    // The first series of a name makes its family: made before counting, not counted.
    drop(register(usize::MAX));
    let before = LIVE.load(Ordering::Relaxed);
    let recorders: Vec<Box<dyn Fn() + Sync>> = (0..SERIES).map(&register).collect();
    let registered = LIVE.load(Ordering::Relaxed) - before;
    // One thread per shard (handed out round-robin, so together they cover every shard).
    std::thread::scope(|scope| {
        for _ in 0..shards {
            scope.spawn(|| recorders.iter().for_each(|record| record()));
        }
    });
    let recorded = LIVE.load(Ordering::Relaxed) - before;
    // The handles themselves are the measurement's, not the series'.
    let handles = (recorders.capacity() * std::mem::size_of::<Box<dyn Fn() + Sync>>()) as isize;
    let per = |bytes: isize| (bytes - handles) as f64 / SERIES as f64;
    format!(
        "{{\"cpus\": {shards}, \"kind\": \"{kind}\", \"registered\": {:.0}, \"recorded\": {:.0}}}",
        per(registered),
        per(recorded)
    )
}

fn run(cpus: usize) {
    assert!(
        pushtimer::__internals::pretend_cpus(cpus),
        "shards decided already"
    );
    let label = |i: usize| format!("s{i}");
    let lines = [
        measure("summary", cpus, |i| {
            let summary = pushtimer::Summary::builder("memory_summary")
                .label("series", &label(i))
                .register()
                .expect("valid");
            Box::new(move || summary.observe_duration(Duration::from_millis(3)))
        }),
        measure("summary with 3 quantiles", cpus, |i| {
            let summary = pushtimer::Summary::builder("memory_quantiles")
                .label("series", &label(i))
                .quantiles(&[0.5, 0.9, 0.99])
                .register()
                .expect("valid");
            Box::new(move || summary.observe_duration(Duration::from_millis(3)))
        }),
        measure("histogram (default buckets)", cpus, |i| {
            let histogram = pushtimer::Histogram::builder("memory_histogram")
                .label("series", &label(i))
                .register()
                .expect("valid");
            Box::new(move || histogram.observe_duration(Duration::from_millis(3)))
        }),
        measure("native histogram (schema 5)", cpus, |i| {
            let histogram = pushtimer::Histogram::builder("memory_native")
                .label("series", &label(i))
                .native()
                .register()
                .expect("valid");
            Box::new(move || histogram.observe_duration(Duration::from_millis(3)))
        }),
        measure("counter", cpus, |i| {
            let counter = pushtimer::Counter::builder("memory_counter")
                .label("series", &label(i))
                .register()
                .expect("valid");
            Box::new(move || counter.inc())
        }),
        measure("gauge", cpus, |i| {
            let gauge = pushtimer::Gauge::builder("memory_gauge")
                .label("series", &label(i))
                .register()
                .expect("valid");
            Box::new(move || gauge.set(1.0).expect("finite"))
        }),
    ];
    for line in lines {
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(cpus) = args
        .iter()
        .position(|a| a == "--cpus")
        .and_then(|i| args.get(i + 1))
    {
        run(cpus.parse().expect("a number of CPUs"));
        return;
    }
    // `cargo bench` passes `--bench`: measure each size in a process of its own.
    let mut results = Vec::new();
    for cpus in [2, 16] {
        let output = std::process::Command::new(&args[0])
            .args(["--cpus", &cpus.to_string()])
            .output()
            .expect("run the measurement");
        assert!(output.status.success(), "{output:?}");
        results.push(String::from_utf8(output.stdout).expect("UTF-8"));
    }
    let text = results.concat();
    print!("{text}");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    std::fs::write(target.join("series_memory.json"), text).expect("write the results");
}
