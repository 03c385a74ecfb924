//! What `#[timed]` records, on every kind of function it supports, read back from
//! `pushtimer::render()` (no gateway needed: nothing is configured, so nothing is pushed).
//!
//! All tests share the process-wide registry, so each uses metric names of its own.
#![deny(unsafe_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pushtimer_tests::{Scrape, block_on};

/// The call count of `name`'s series with `labels` and `outcome="ok"`, unless `labels` names
/// another outcome.
fn count(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut labels = labels.to_vec();
    if !labels.iter().any(|(label, _)| *label == "outcome") {
        labels.push(("outcome", "ok"));
    }
    Scrape::parse(&pushtimer::render()).value(&format!("{name}_count"), &labels)
}

fn sum(name: &str, outcome: &str) -> f64 {
    Scrape::parse(&pushtimer::render())
        .value(&format!("{name}_sum"), &[("outcome", outcome)])
        .unwrap_or(f64::NAN)
}

#[pushtimer::timed(name = "attr_early")]
fn early(flag: bool) -> Result<u8, std::num::ParseIntError> {
    if flag {
        return Ok(1);
    }
    let n: u8 = "x".parse()?;
    Ok(n)
}

#[test]
fn early_return_and_question_mark_are_recorded() {
    assert_eq!(early(true), Ok(1));
    assert!(early(false).is_err());
    assert_eq!(count("attr_early_seconds", &[("outcome", "ok")]), Some(1.0));
    assert_eq!(
        count("attr_early_seconds", &[("outcome", "error")]),
        Some(1.0)
    );
    assert_eq!(
        count("attr_early_seconds", &[("outcome", "panic")]),
        Some(0.0)
    );
}

#[pushtimer::timed(name = "attr_panics")]
fn panics() {
    panic!("on purpose");
}

#[test]
fn a_call_that_panics_is_recorded() {
    assert!(std::panic::catch_unwind(panics).is_err());
    assert_eq!(
        count("attr_panics_seconds", &[("outcome", "panic")]),
        Some(1.0)
    );
    assert_eq!(
        count("attr_panics_seconds", &[("outcome", "ok")]),
        Some(0.0)
    );
    // A function that cannot fail has no `error` series.
    assert_eq!(count("attr_panics_seconds", &[("outcome", "error")]), None);
}

struct Model(u32);

impl Model {
    #[pushtimer::timed(name = "attr_method", labels(receiver = "ref"))]
    fn by_ref(&self) -> u32 {
        self.0
    }

    #[pushtimer::timed(name = "attr_method", labels(receiver = "mut"))]
    fn by_mut(&mut self) -> &mut u32 {
        &mut self.0
    }

    #[pushtimer::timed(name = "attr_method", labels(receiver = "value"))]
    fn by_value(self) -> u32 {
        self.0
    }

    // The receiver is what is under test here, not a needless box.
    #[allow(clippy::boxed_local)]
    #[pushtimer::timed(name = "attr_method", labels(receiver = "box"))]
    fn boxed(self: Box<Self>) -> u32 {
        self.0
    }
}

#[test]
fn methods_with_every_receiver_are_recorded_per_label() {
    let mut model = Model(1);
    assert_eq!(model.by_ref(), 1);
    *model.by_mut() += 1;
    assert_eq!(Box::new(Model(5)).boxed(), 5);
    assert_eq!(model.by_value(), 2);
    for receiver in ["ref", "mut", "value", "box"] {
        assert_eq!(
            count("attr_method_seconds", &[("receiver", receiver)]),
            Some(1.0),
            "{receiver}"
        );
    }
}

trait Stage {
    fn run(&self) -> u32;
}

impl Stage for Model {
    #[pushtimer::timed(name = "attr_trait_impl")]
    fn run(&self) -> u32 {
        self.0 * 2
    }
}

#[test]
fn trait_impl_functions_are_recorded() {
    let stage: &dyn Stage = &Model(4);
    assert_eq!(stage.run(), 8);
    assert_eq!(count("attr_trait_impl_seconds", &[]), Some(1.0));
}

#[pushtimer::timed(name = "attr_generic")]
fn generic<T>(value: &T) -> String
where
    T: Clone + std::fmt::Debug,
{
    format!("{:?}", value.clone())
}

#[test]
fn all_instantiations_of_a_generic_function_share_one_series() {
    assert_eq!(generic(&1u8), "1");
    assert_eq!(generic(&"a"), "\"a\"");
    assert_eq!(generic(&vec![1.5]), "[1.5]");
    assert_eq!(count("attr_generic_seconds", &[]), Some(3.0));
}

#[pushtimer::timed(name = "attr_impl_trait")]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

// `unsafe fn` is one of the shapes `#[timed]` must support.
#[allow(unsafe_code)]
#[pushtimer::timed(name = "attr_unsafe")]
unsafe fn read(pointer: *const u32) -> u32 {
    // SAFETY: the caller passes a pointer to a live u32.
    unsafe { *pointer }
}

#[test]
#[allow(unsafe_code)]
fn impl_trait_and_unsafe_functions_are_recorded() {
    assert_eq!(evens(5).collect::<Vec<_>>(), vec![0, 2, 4]);
    let value = 7;
    // SAFETY: `value` is alive for the call.
    assert_eq!(unsafe { read(&value) }, 7);
    assert_eq!(count("attr_impl_trait_seconds", &[]), Some(1.0));
    assert_eq!(count("attr_unsafe_seconds", &[]), Some(1.0));
}

#[pushtimer::timed(name = "attr_already_seconds")]
fn already_suffixed() {}

#[test]
fn a_seconds_suffix_is_not_doubled() {
    already_suffixed();
    let text = pushtimer::render();
    assert!(
        text.contains("attr_already_seconds_count{outcome=\"ok\"} 1"),
        "{text}"
    );
    assert!(!text.contains("attr_already_seconds_seconds"), "{text}");
}

/// Pending on the first poll, ready on the second: a future that really suspends.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[pushtimer::timed(name = "attr_async")]
async fn suspends(n: u32) -> u32 {
    YieldOnce(false).await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    n + 1
}

#[test]
fn an_async_call_is_timed_from_first_poll_to_completion() {
    let future = suspends(1);
    // Creating the future does not start the timer; only polling does.
    assert_eq!(count("attr_async_seconds", &[]), None);
    assert_eq!(block_on(future), 2);
    assert_eq!(count("attr_async_seconds", &[]), Some(1.0));
    // The body slept 5 ms after suspending once: the duration spans the whole future.
    assert!(sum("attr_async_seconds", "ok") >= 0.005);
}

#[pushtimer::timed(name = "attr_async_dropped")]
async fn never_finishes() {
    std::future::pending::<()>().await;
}

#[test]
fn an_async_call_dropped_unfinished_is_recorded_until_the_drop() {
    let mut future = Box::pin(never_finishes());
    let mut context = Context::from_waker(std::task::Waker::noop());
    assert!(future.as_mut().poll(&mut context).is_pending());
    drop(future);
    assert_eq!(
        count("attr_async_dropped_seconds", &[("outcome", "cancelled")]),
        Some(1.0)
    );
    assert_eq!(count("attr_async_dropped_seconds", &[]), Some(0.0));
}

/// Loads one shard.
///
/// Details that are not part of HELP.
#[pushtimer::timed(name = "attr_doc_help")]
fn documented() {}

#[pushtimer::timed(name = "attr_no_doc")]
fn undocumented() {}

#[test]
fn help_comes_from_the_doc_comment_or_names_the_function() {
    documented();
    undocumented();
    let scrape = Scrape::parse(&pushtimer::render());
    assert_eq!(scrape.help["attr_doc_help_seconds"], "Loads one shard.");
    assert_eq!(
        scrape.help["attr_no_doc_seconds"],
        "Wall-clock time of one call of `attribute::undocumented`, in seconds."
    );
    assert_eq!(scrape.types["attr_no_doc_seconds"], "summary");
}

#[pushtimer::timed(name = "attr_shared", labels(stage = "a"))]
fn shared_one() {}

#[pushtimer::timed(name = "attr_shared", labels(stage = "a"))]
fn shared_two() {}

#[test]
fn two_functions_with_the_same_name_and_labels_share_a_series() {
    shared_one();
    shared_two();
    shared_two();
    assert_eq!(count("attr_shared_seconds", &[("stage", "a")]), Some(3.0));
}

#[test]
fn calls_from_many_threads_are_all_counted() {
    #[pushtimer::timed(name = "attr_threads")]
    fn tick() {}

    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| (0..10_000).for_each(|_| tick()));
        }
    });
    assert_eq!(count("attr_threads_seconds", &[]), Some(40_000.0));
}

#[test]
fn borrows_in_the_body_behave_as_without_the_attribute() {
    #[pushtimer::timed(name = "attr_borrow")]
    fn first<'a>(values: &'a [u8]) -> Option<&'a u8> {
        values.first()
    }

    let values = vec![3, 4];
    assert_eq!(first(&values), Some(&3));
}

#[pushtimer::timed(name = "attr_histogram", buckets(0.5, 10, 3600))]
fn bucketed(sleep_ms: u64) -> Result<(), ()> {
    std::thread::sleep(std::time::Duration::from_millis(sleep_ms));
    if sleep_ms == 0 { Err(()) } else { Ok(()) }
}

#[pushtimer::timed(histogram)]
fn attr_default_buckets() {}

#[test]
fn a_histogram_counts_each_call_in_its_bucket_per_outcome() {
    bucketed(1).unwrap();
    bucketed(1).unwrap();
    assert!(bucketed(0).is_err());
    attr_default_buckets();
    let text = pushtimer::render();
    let scrape = Scrape::parse(&text);
    assert_eq!(scrape.types["attr_histogram_seconds"], "histogram");
    let bucket = |le: &str, outcome: &str| {
        scrape.value(
            "attr_histogram_seconds_bucket",
            &[("le", le), ("outcome", outcome)],
        )
    };
    // Calls of a millisecond or so: all in the first bucket, and in every one above it.
    for le in ["0.5", "10", "3600", "+Inf"] {
        assert_eq!(bucket(le, "ok"), Some(2.0), "le={le}: {text}");
        assert_eq!(bucket(le, "error"), Some(1.0), "le={le}: {text}");
    }
    assert_eq!(count("attr_histogram_seconds", &[]), Some(2.0));
    // The default buckets: 20 bounds and +Inf.
    let defaults = scrape.find("attr_default_buckets_seconds_bucket", &[("outcome", "ok")]);
    assert_eq!(
        defaults.len(),
        pushtimer::DEFAULT_BUCKETS.len() + 1,
        "{text}"
    );
    assert!(defaults.iter().all(|sample| sample.value == 1.0), "{text}");
}

#[test]
fn hand_histograms_count_exactly_per_bucket() {
    let histogram = pushtimer::Histogram::builder("attr_hand_histogram")
        .buckets(&[0.1, 1.0])
        .label("stage", "upload")
        .register()
        .expect("valid");
    for seconds in [0.05, 0.1, 0.5, 1.0, 2.0, 0.0] {
        histogram.observe(seconds).expect("valid");
    }
    assert!(histogram.observe(-1.0).is_err());
    let scrape = Scrape::parse(&pushtimer::render());
    let bucket = |le: &str| {
        scrape.value(
            "attr_hand_histogram_seconds_bucket",
            &[("le", le), ("stage", "upload")],
        )
    };
    // `le` is inclusive: 0.1 is in the 0.1 bucket, 1.0 in the 1 bucket.
    assert_eq!(bucket("0.1"), Some(3.0));
    assert_eq!(bucket("1"), Some(5.0));
    assert_eq!(bucket("+Inf"), Some(6.0));
    assert_eq!(
        scrape.value("attr_hand_histogram_seconds_sum", &[("stage", "upload")]),
        Some(3.65)
    );
    for bad in [&[1.0, 0.5][..], &[0.0], &[f64::NAN]] {
        let refused = pushtimer::Histogram::builder("attr_bad_buckets")
            .buckets(bad)
            .register();
        assert!(refused.is_err(), "{bad:?}");
    }
}

#[pushtimer::timed(name = "attr_quantiles", quantiles(0.5, 0.99))]
fn step(millis: u64) {
    std::thread::sleep(std::time::Duration::from_millis(millis));
}

#[test]
fn quantiles_cover_the_whole_run_within_one_percent() {
    let hand = pushtimer::Summary::builder("attr_hand_quantiles")
        .quantiles(&[0.5, 0.9])
        .register()
        .expect("valid");
    for seconds in 1..=100 {
        hand.observe(f64::from(seconds) / 100.0).expect("valid");
    }
    step(2);
    let scrape = Scrape::parse(&pushtimer::render());
    let quantile = |name: &str, q: &str, extra: &[(&str, &str)]| {
        let mut labels = vec![("quantile", q)];
        labels.extend_from_slice(extra);
        scrape.value(name, &labels)
    };
    // The 50th and 90th of 0.01, 0.02, ..., 1.00 s are 0.50 and 0.90 s.
    let median = quantile("attr_hand_quantiles_seconds", "0.5", &[]).expect("median");
    assert!((median - 0.5).abs() <= 0.005, "{median}");
    let p90 = quantile("attr_hand_quantiles_seconds", "0.9", &[]).expect("p90");
    assert!((p90 - 0.9).abs() <= 0.009, "{p90}");
    // One call of about 2 ms: every quantile is that call.
    let sum = sum("attr_quantiles_seconds", "ok");
    for q in ["0.5", "0.99"] {
        let value = quantile("attr_quantiles_seconds", q, &[("outcome", "ok")]).expect("q");
        assert!((value - sum).abs() <= sum * 0.01, "{q}: {value} vs {sum}");
    }
    for bad in [&[0.0][..], &[1.0], &[0.9, 0.5], &[f64::NAN]] {
        let refused = pushtimer::Summary::builder("attr_bad_quantiles")
            .quantiles(bad)
            .register();
        assert!(refused.is_err(), "{bad:?}");
    }
}
