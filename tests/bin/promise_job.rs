//! A job for the "every promise kept" suite (`tests/promises.rs`), with its mode as first
//! argument:
//!
//! - `reentrant-logger`: its logger (all levels, so the TLS library's debug lines reach it too)
//!   itself calls a `#[timed]` function, and the first thing the job does is log (so pushtimer
//!   starts inside the logger); then two functions share a name with different label names (a
//!   conflict warning). Prints `done` unless it deadlocks.
//! - `short`: one timed call, then returns (no logger when `PROMISE_JOB_NO_LOGGER=1`).
//! - `flush`: a timed call, a flush (prints `flush=ok` or `flush=err:<error>`), another timed
//!   call, then returns.
//! - `flush-after-exit`: registers an `atexit` handler of its own, then installs a `Config`
//!   from the environment with the gateway from `PROMISE_JOB_GATEWAY` (so pushtimer's exit
//!   hook is registered when the Config is installed, after the job's handler, and runs before
//!   it), makes one timed call and returns; the handler, after the final push, flushes and
//!   prints `after-exit flush=ok` or `after-exit flush=err:<error>`.
//! - `builder-extremes`: installs a `Config` from the environment with `Duration::MAX` as
//!   timeout and a zero push interval, makes one timed call and flushes; prints `flush=ok` or
//!   `flush=err:<error>`.
//! - `idle <series>`: `series` series observed once, a flush, then waits for 20 more rounds of
//!   the push thread with nothing recorded; prints `idle_renders=<renders during those rounds>`.
//! - `fork`: pushes, then `fork()`s: the child makes a timed call and leaves with
//!   `std::process::exit(0)` (after a call of a timed function the parent never called); the parent waits for it (at most 30 s), prints
//!   `child=<exit code>` and returns.
//! - `outcomes`: a timed `fn` returning `Result` called to return `Ok` twice, `Err` by `?` and
//!   by `return`, and to panic once (caught); a timed `async fn` completed once and dropped
//!   unfinished once; a timed `fn` that cannot fail called once. Prints `done`.
//! - `until <stop-file> <exit-code>`: calls a timed function every few milliseconds until the
//!   file exists, then exits with the code.
//! - `handles-signal before|after <stop-file>`: registers its own SIGTERM and SIGINT handler
//!   (signal-hook) before or after its first timed call, then works until a signal or the
//!   file; prints `graceful` and returns (exit code 0).
//! - `histograms`: observes 0.05, 0.1, 0.5, 1 and 2 s into a hand histogram with buckets 0.1
//!   and 1, and calls a timed function with buckets (one error), then returns.
//! - `spread <part>`: the part-th third (0, 1 or 2) of 300 durations spread evenly over
//!   (0, 1) s, into a histogram with buckets every 0.1 s: three jobs together hold them all.
//! - `collisions`: two `#[timed] fn load` in different modules, a timed `promise_train`, and the
//!   user metrics `promise_train_seconds_count` and `pushtimer_rejected_observations_total` in
//!   `pushtimer::registry()`; then flushes and prints `flush=...`.
#![deny(unsafe_code)]

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Does one unit of work.
#[pushtimer::timed(name = "promise_job_work")]
fn work(i: u64) -> u64 {
    black_box(i.wrapping_mul(31))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("short");
    if mode == "reentrant-logger" {
        reentrant_logger();
        return;
    }
    if std::env::var_os("PROMISE_JOB_NO_LOGGER").is_none() {
        pushtimer_tests::init_stderr_logger();
    }
    match mode {
        "short" => {
            work(1);
        }
        "flush" => {
            work(1);
            match pushtimer::flush() {
                Ok(()) => println!("flush=ok"),
                Err(error) => println!("flush=err:{error}"),
            }
            work(2);
        }
        "builder-extremes" => builder_extremes(),
        "flush-after-exit" => flush_after_exit(),
        "pacing" => {
            work(1);
            let flushed = pushtimer::flush();
            let stats = pushtimer::__internals::push_thread_stats().expect("pushing is on");
            println!(
                "flush={} interval_ms={} retry_after_s={}",
                if flushed.is_ok() { "ok" } else { "err" },
                stats.interval.as_millis(),
                stats.retry_after.as_secs()
            );
        }
        "idle" => idle(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10_000)),
        "fork" => fork(),
        "collisions" => collisions(),
        "outcomes" => outcomes(),
        "histograms" => histograms(),
        "spread" => {
            let part: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0);
            spread(part);
        }
        "until" => {
            let stop = args.get(2).expect("until <stop-file> <exit-code>");
            let code: i32 = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(0);
            let mut calls = 0;
            while !std::path::Path::new(stop).exists() {
                work(calls);
                if calls == 0 {
                    eprintln!("running");
                }
                calls += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            std::process::exit(code);
        }
        "handles-signal" => {
            let order = args.get(2).map(String::as_str).unwrap_or("before");
            let stop = args
                .get(3)
                .expect("handles-signal before|after <stop-file>");
            handles_signal(order, stop);
        }
        other => panic!("unknown mode {other:?}"),
    }
}

/// Formats a log line; timed, as a user's logger might be.
#[pushtimer::timed(name = "promise_job_log_line")]
fn format_line(record: &log::Record<'_>) -> String {
    format!("{} {}: {}", record.level(), record.target(), record.args())
}

/// Same name as [`labelled_b`], other label names: pushtimer warns about the conflict.
#[pushtimer::timed(name = "promise_job_conflict", labels(a = "1"))]
fn labelled_a() {}

#[pushtimer::timed(name = "promise_job_conflict", labels(b = "1"))]
fn labelled_b() {}

fn reentrant_logger() {
    struct Timed;
    impl log::Log for Timed {
        // Every level: the TLS library's own debug lines (while pushtimer reads a CA file)
        // come here too.
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            eprintln!("{}", format_line(record));
        }
        fn flush(&self) {}
    }
    static LOGGER: Timed = Timed;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
    log::info!("starting");
    labelled_a();
    labelled_b();
    work(1);
    println!("done");
}

#[allow(unsafe_code)]
fn flush_after_exit() {
    /// Runs inside `exit()`, after pushtimer's own exit hook (registered later, so run
    /// earlier): the final push is done.
    extern "C" fn after_exit() {
        let result = match pushtimer::flush() {
            Ok(()) => "ok".to_owned(),
            Err(error) => format!("err:{error}"),
        };
        use std::io::Write;
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "after-exit flush={result}");
        let _ = stdout.flush();
    }
    // SAFETY: `after_exit` is a plain `extern "C" fn` that lives for the whole program; it
    // cannot unwind into C (flush never panics, and a failed write is ignored).
    let registered = unsafe { libc::atexit(after_exit) };
    assert_eq!(registered, 0, "atexit refused");
    let gateway = std::env::var("PROMISE_JOB_GATEWAY").expect("PROMISE_JOB_GATEWAY");
    let installed = pushtimer::Config::from_env().gateway(&gateway).install();
    assert!(installed.is_ok());
    work(1);
}

fn builder_extremes() {
    let installed = pushtimer::Config::from_env()
        .timeout(Duration::MAX)
        .push_interval(Duration::ZERO)
        .install();
    assert!(installed.is_ok());
    work(1);
    match pushtimer::flush() {
        Ok(()) => println!("flush=ok"),
        Err(error) => println!("flush=err:{error}"),
    }
}

fn idle(series: usize) {
    let summary = |i: usize| {
        pushtimer::Summary::builder("promise_job_idle")
            .label("series", &i.to_string())
            .register()
            .expect("valid summary")
    };
    for i in 0..series {
        summary(i).observe_duration(Duration::from_millis(1));
    }
    let flushed = pushtimer::flush();
    assert!(flushed.is_ok(), "{flushed:?}");
    let stats = || pushtimer::__internals::push_thread_stats().expect("pushing is on");
    let before = stats();
    // Waits for the push thread's own rounds (readiness, not time): 20 idle intervals.
    let waited = Instant::now();
    while stats().rounds < before.rounds + 20 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the push thread stopped"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("idle_renders={}", stats().renders - before.renders);
}

/// Called only in the forked child: a call site first resolved after the fork.
#[pushtimer::timed(name = "promise_job_child_only")]
fn child_only() {}

#[allow(unsafe_code)]
fn fork() {
    work(1);
    let flushed = pushtimer::flush();
    assert!(flushed.is_ok(), "{flushed:?}");
    // SAFETY: the child only calls async-signal-tolerant work of its own (a timed call, which
    // allocates nothing, and exit); this is the shape a daemonising job has.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        work(2);
        child_only();
        std::process::exit(0);
    }
    assert!(pid > 0, "fork failed");
    let started = Instant::now();
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child, with a valid pointer for its status.
        let waited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if waited == pid {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            // SAFETY: kills our own hung child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            println!("child=hung");
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("child={}", libc::WEXITSTATUS(status));
    work(3);
}

mod reader {
    /// Loads the input.
    #[pushtimer::timed]
    pub fn load() {}
}

mod writer {
    /// Loads the output.
    #[pushtimer::timed]
    pub fn load() {}
}

/// Trains.
#[pushtimer::timed]
fn promise_train() {}

fn collisions() {
    for name in [
        "promise_train_seconds_count",
        "pushtimer_rejected_observations_total",
    ] {
        let counter = pushtimer::prometheus::IntCounter::new(name, "the user's").expect("valid");
        counter.inc_by(7);
        pushtimer::registry()
            .register(Box::new(counter))
            .expect("registers");
    }
    let kept = pushtimer::prometheus::IntCounter::new("promise_rows_total", "Rows.").expect("ok");
    kept.inc_by(5);
    pushtimer::registry()
        .register(Box::new(kept))
        .expect("registers");
    reader::load();
    writer::load();
    promise_train();
    match pushtimer::flush() {
        Ok(()) => println!("flush=ok"),
        Err(error) => println!("flush=err:{error}"),
    }
}

fn handles_signal(order: &str, stop: &str) {
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let register = || {
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, std::sync::Arc::clone(&asked))
                .expect("register the job's own handler");
        }
    };
    if order == "before" {
        register();
    }
    work(0);
    if order == "after" {
        register();
    }
    eprintln!("running");
    while !asked.load(std::sync::atomic::Ordering::SeqCst) && !std::path::Path::new(stop).exists() {
        work(1);
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("graceful");
}

/// Parses a count; fails by `?` or by an early `return`.
#[pushtimer::timed(name = "promise_job_parse")]
fn parse(text: &str) -> std::io::Result<u32> {
    if text.is_empty() {
        return Err(std::io::Error::other("empty"));
    }
    if text == "boom" {
        panic!("on purpose");
    }
    let n: u32 = text.parse().map_err(std::io::Error::other)?;
    Ok(n)
}

/// Waits for a value that may never come.
#[pushtimer::timed(name = "promise_job_wait")]
async fn wait(ready: bool) -> u32 {
    if !ready {
        std::future::pending::<()>().await;
    }
    1
}

fn outcomes() {
    assert_eq!(parse("1").ok(), Some(1));
    assert_eq!(parse("2").ok(), Some(2));
    assert!(parse("x").is_err());
    assert!(parse("").is_err());
    assert!(std::panic::catch_unwind(|| parse("boom")).is_err());
    assert_eq!(pushtimer_tests::block_on(wait(true)), 1);
    // Polled once, then dropped before it completes.
    let mut pending = Box::pin(wait(false));
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    assert!(pending.as_mut().poll(&mut context).is_pending());
    drop(pending);
    work(1);
    println!("done");
}

/// Decodes one record; fails for an empty one.
#[pushtimer::timed(name = "promise_job_decode", buckets(0.5, 60))]
fn decode(record: &str) -> Result<usize, String> {
    if record.is_empty() {
        return Err("empty record".into());
    }
    Ok(record.len())
}

fn histograms() {
    let upload = pushtimer::Histogram::builder("promise_job_upload")
        .buckets(&[0.1, 1.0])
        .register()
        .expect("valid histogram");
    for seconds in [0.05, 0.1, 0.5, 1.0, 2.0] {
        upload.observe(seconds).expect("a valid duration");
    }
    assert_eq!(decode("abc"), Ok(3));
    assert!(decode("").is_err());
    println!("done");
}

fn spread(part: u32) {
    let bounds: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
    let spread = pushtimer::Histogram::builder("promise_job_spread")
        .buckets(&bounds)
        .register()
        .expect("valid histogram");
    for n in 0..100u32 {
        let seconds = (f64::from(part + 3 * n) + 0.5) / 300.0;
        spread.observe(seconds).expect("a valid duration");
    }
    println!("done");
}
