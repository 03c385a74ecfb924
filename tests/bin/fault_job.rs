//! A job for the fault suite, with its mode as first argument:
//!
//! - `until <stop-file>`: calls a timed function every few milliseconds until the file exists,
//!   then prints `calls=<n>` and returns. It lets a test change the gateway while a job runs.
//! - `load`: 2 threads × 500,000 calls of a timed function, and 1,000,000 hand observations of
//!   exactly 1,234 ns, then prints the timed sum it recorded as `sum=<seconds>`.
//! - `many <n>`: `n` series of one summary (label `series`), one observation of 0.5 s each.
//!
//! With `FAULT_JOB_PANICKING_LOGGER=1` its logger panics (after printing) whenever pushtimer's
//! background thread logs: a stand-in for a broken logging backend.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// Does one unit of work.
#[pushtimer::timed(name = "fault_job_work")]
fn work(i: u64) -> u64 {
    black_box(i.wrapping_mul(31))
}

fn main() {
    if std::env::var_os("FAULT_JOB_PANICKING_LOGGER").is_some_and(|v| v == "1") {
        install_panicking_logger();
    } else {
        pushtimer_tests::init_stderr_logger();
    }
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("until") => until(Path::new(args.get(2).expect("until <stop-file>"))),
        Some("load") => load(),
        Some("many") => many(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(2000)),
        other => panic!("unknown mode {other:?}"),
    }
}

fn until(stop: &Path) {
    let mut calls = 0u64;
    while !stop.exists() {
        work(calls);
        calls += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("calls={calls}");
}

fn load() {
    let fixed = pushtimer::Summary::builder("fault_job_fixed")
        .help("Exactly 1234 ns per observation.")
        .register()
        .expect("valid summary");
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for i in 0..500_000 {
                    work(i);
                    fixed.observe_duration(Duration::from_nanos(1234));
                }
            });
        }
    });
    let text = pushtimer::render();
    let sum = text
        .lines()
        .find_map(|line| line.strip_prefix("fault_job_work_seconds_sum{outcome=\"ok\"} "))
        .expect("the timed summary is rendered");
    println!("sum={sum}");
}

fn many(n: u32) {
    for i in 0..n {
        pushtimer::Summary::builder("fault_job_many")
            .help("One of many series.")
            .label("series", &i.to_string())
            .register()
            .expect("valid summary")
            .observe(0.5)
            .expect("valid observation");
    }
    println!("series={n}");
}

fn install_panicking_logger() {
    struct Panicking;
    impl log::Log for Panicking {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.level() <= log::Level::Info
        }
        fn log(&self, record: &log::Record<'_>) {
            if !self.enabled(record.metadata()) {
                return;
            }
            eprintln!("{} {}: {}", record.level(), record.target(), record.args());
            if std::thread::current().name() == Some("pushtimer") {
                panic!("the logging backend failed on purpose");
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Panicking = Panicking;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}
