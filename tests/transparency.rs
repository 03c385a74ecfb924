//! `#[timed]` keeps what a function means, checked by running it: `cfg`'d statements, `?` in a
//! `Drop` during a panic, a panic after the value is returned, `#[async_trait]` methods and
//! `#[tokio::test]` in either order, each with the outcome it must be counted under (read back
//! from `pushtimer::render()`; nothing is configured, so nothing is pushed).
//!
//! All tests share the process-wide registry, so each uses metric names of its own.
#![deny(unsafe_code)]

use std::cell::RefCell;

use async_trait::async_trait;
use pushtimer_tests::{Scrape, block_on};

/// The call count of `name`'s `_seconds` series with outcome `outcome`.
fn count(name: &str, outcome: &str) -> Option<f64> {
    Scrape::parse(&pushtimer::render())
        .value(&format!("{name}_seconds_count"), &[("outcome", outcome)])
}

thread_local! {
    static LINES: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

fn line(text: &'static str) -> Result<(), String> {
    LINES.with(|lines| lines.borrow_mut().push(text));
    Ok(())
}

#[pushtimer::timed(name = "transparent_cfg")]
fn cfg_statements() -> Result<(), String> {
    // The `cfg` gates the whole statement, `?` included: one line runs, never both.
    #[cfg(any())]
    line("never")?;
    #[cfg(not(any()))]
    line("always")?;
    Ok(())
}

#[test]
fn cfg_on_a_statement_still_gates_it() {
    cfg_statements().unwrap();
    assert_eq!(LINES.with(|lines| lines.borrow().clone()), ["always"]);
    assert_eq!(count("transparent_cfg", "ok"), Some(1.0));
}

#[pushtimer::timed(name = "transparent_in_drop")]
fn fails_in_drop() -> Result<u8, std::num::ParseIntError> {
    let n = "x".parse::<u8>()?;
    Ok(n)
}

struct CallsOnDrop;

impl Drop for CallsOnDrop {
    fn drop(&mut self) {
        // Runs while a panic unwinds: this call's own `?` returns an `Err`, no panic leaves it.
        assert!(std::thread::panicking());
        assert!(fails_in_drop().is_err());
    }
}

#[test]
fn a_question_mark_in_a_drop_during_a_panic_counts_as_error() {
    let result = std::panic::catch_unwind(|| {
        let _on_drop = CallsOnDrop;
        panic!("on purpose");
    });
    assert!(result.is_err());
    assert_eq!(count("transparent_in_drop", "error"), Some(1.0));
    assert_eq!(count("transparent_in_drop", "panic"), Some(0.0));
}

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("a local's drop panics after the value was returned");
    }
}

#[pushtimer::timed(name = "transparent_late_panic")]
fn panics_after_returning(early: bool) -> Result<u8, String> {
    let _local = PanicsOnDrop;
    if early {
        return Ok(1);
    }
    Ok(2)
}

#[test]
fn a_panic_after_the_value_was_returned_counts_as_panic() {
    assert!(std::panic::catch_unwind(|| panics_after_returning(true)).is_err());
    assert!(std::panic::catch_unwind(|| panics_after_returning(false)).is_err());
    assert_eq!(count("transparent_late_panic", "panic"), Some(2.0));
    assert_eq!(count("transparent_late_panic", "ok"), Some(0.0));
}

macro_rules! bail {
    ($message:expr) => {
        return Err(String::from($message))
    };
}

#[pushtimer::timed(name = "transparent_bail")]
fn bails(fail: bool) -> Result<u8, String> {
    if fail {
        bail!("no");
    }
    Ok(1)
}

#[test]
fn an_early_return_from_a_macro_counts_as_error() {
    assert!(bails(true).is_err());
    assert_eq!(bails(false), Ok(1));
    assert_eq!(count("transparent_bail", "error"), Some(1.0));
    assert_eq!(count("transparent_bail", "ok"), Some(1.0));
}

#[derive(Debug)]
struct Missing;

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("missing")
    }
}

impl std::error::Error for Missing {}

#[pushtimer::timed(name = "transparent_coerced")]
fn coerced(which: u8) -> Result<&'static str, Box<dyn std::error::Error>> {
    match which {
        0 => return Err(Box::new(Missing)),
        1 => Err(Box::new(Missing)),
        _ => Ok("fine"),
    }
}

#[test]
fn coerced_errors_count_as_errors() {
    assert!(coerced(0).is_err());
    assert!(coerced(1).is_err());
    assert_eq!(coerced(2).ok(), Some("fine"));
    assert_eq!(count("transparent_coerced", "error"), Some(2.0));
    assert_eq!(count("transparent_coerced", "ok"), Some(1.0));
}

#[async_trait]
trait Fetch {
    async fn fetch(&self, key: &str) -> Result<u32, String>;
}

struct Source;

#[async_trait]
impl Fetch for Source {
    #[pushtimer::timed(name = "transparent_async_trait")]
    async fn fetch(&self, key: &str) -> Result<u32, String> {
        if key.is_empty() {
            return Err("empty".into());
        }
        let n = key.parse::<u32>().map_err(|e| e.to_string())?;
        tokio::task::yield_now().await;
        Ok(n)
    }
}

#[test]
fn async_trait_methods_are_timed_with_their_outcome() {
    assert_eq!(block_on(Source.fetch("")), Err("empty".into()));
    assert!(block_on(Source.fetch("x")).is_err());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(Source.fetch("7")), Ok(7));
    // Dropped before completion: polled once, to its first await, then dropped.
    let mut future = Source.fetch("8");
    let waker = std::task::Waker::noop();
    let polled = future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker));
    assert!(polled.is_pending());
    drop(future);
    assert_eq!(count("transparent_async_trait", "error"), Some(2.0));
    assert_eq!(count("transparent_async_trait", "ok"), Some(1.0));
    assert_eq!(count("transparent_async_trait", "cancelled"), Some(1.0));
}

#[tokio::test]
#[pushtimer::timed(name = "transparent_tokio_below")]
async fn tokio_test_above_timed() {
    tokio::task::yield_now().await;
}

#[pushtimer::timed(name = "transparent_tokio_above")]
#[tokio::test]
async fn timed_above_tokio_test() -> Result<(), String> {
    tokio::task::yield_now().await;
    Ok(())
}

#[test]
fn tokio_tests_in_either_order_are_timed() {
    // The harness runs the two tests too, perhaps at the same time: each direct call must add
    // at least one call to its series.
    let before = |name| count(name, "ok").unwrap_or(0.0);
    let (below, above) = (
        before("transparent_tokio_below"),
        before("transparent_tokio_above"),
    );
    tokio_test_above_timed();
    assert_eq!(timed_above_tokio_test(), Ok(()));
    assert!(count("transparent_tokio_below", "ok").unwrap() >= below + 1.0);
    assert!(count("transparent_tokio_above", "ok").unwrap() >= above + 1.0);
}

thread_local! {
    static DROPS: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        DROPS.with(|drops| drops.borrow_mut().push(self.0));
    }
}

fn drops() -> Vec<&'static str> {
    DROPS.with(|drops| std::mem::take(&mut *drops.borrow_mut()))
}

async fn untimed_arguments(a: Noisy, b: Noisy, (c, d): (Noisy, Noisy)) -> usize {
    let _local = Noisy("local");
    [&a, &b, &c, &d].len()
}

#[pushtimer::timed(name = "transparent_drop_order")]
async fn timed_arguments(a: Noisy, b: Noisy, (c, d): (Noisy, Noisy)) -> usize {
    let _local = Noisy("local");
    [&a, &b, &c, &d].len()
}

fn untimed_sync(a: Noisy, b: Noisy) -> usize {
    let _local = Noisy("local");
    [&a, &b].len()
}

#[pushtimer::timed(name = "transparent_sync_drop_order")]
fn timed_sync(a: Noisy, b: Noisy) -> usize {
    let _local = Noisy("local");
    [&a, &b].len()
}

#[test]
fn arguments_and_locals_are_dropped_in_the_same_order() {
    let arguments = || (Noisy("a"), Noisy("b"), (Noisy("c"), Noisy("d")));
    let (a, b, cd) = arguments();
    block_on(untimed_arguments(a, b, cd));
    let untimed = drops();
    let (a, b, cd) = arguments();
    block_on(timed_arguments(a, b, cd));
    assert_eq!(drops(), untimed);
    assert_eq!(untimed, ["local", "d", "c", "b", "a"]);
    untimed_sync(Noisy("a"), Noisy("b"));
    let untimed = drops();
    timed_sync(Noisy("a"), Noisy("b"));
    assert_eq!(drops(), untimed);
    assert_eq!(count("transparent_drop_order", "ok"), Some(1.0));
}

fn auto_traits<T: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>(value: T) -> T {
    value
}

#[pushtimer::timed(name = "transparent_auto_traits")]
async fn plain_future(n: u32) -> u32 {
    std::future::ready(n).await
}

#[test]
fn a_timed_future_keeps_its_auto_traits() {
    // Send, Sync and unwind safety of the future are the body's, not the guard's.
    assert_eq!(block_on(auto_traits(plain_future(3))), 3);
}

/// A timed `GlobalAlloc`: every allocation pushtimer itself makes calls a timed function. The
/// job must end on its own (a hang is a failure at the harness's time limit), push, and count
/// the allocations; without a destination too.
#[test]
fn a_timed_global_allocator_neither_hangs_nor_crashes() {
    const ALLOC_JOB: &str = env!("CARGO_BIN_EXE_alloc_job");
    let alone = pushtimer_tests::run_job(ALLOC_JOB, &[], &[]);
    assert_eq!(alone.status.code(), Some(0), "{alone:#?}");
    assert!(alone.stdout.contains("allocated 1000"), "{alone:#?}");
    let Some(gateway) = pushtimer_tests::Gateway::start("timed_allocator") else {
        return;
    };
    let run = pushtimer_tests::run_job(
        ALLOC_JOB,
        &[],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "timed_allocator"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.stdout.contains("flush=ok"), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    let scrape = gateway.scrape();
    let labels = [("job", "timed_allocator"), ("outcome", "ok")];
    let allocations = scrape
        .value("alloc_job_alloc_seconds_count", &labels)
        .unwrap_or(0.0);
    assert!(allocations >= 1000.0, "{allocations}: {scrape:#?}");
    let median = scrape.value(
        "alloc_job_alloc_seconds",
        &[
            ("job", "timed_allocator"),
            ("outcome", "ok"),
            ("quantile", "0.5"),
        ],
    );
    assert!(median.is_some_and(|m| m >= 0.0), "{median:?}");
}
