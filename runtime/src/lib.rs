//! Time a Rust batch job's functions with one attribute and push the durations to a
//! Prometheus Pushgateway.
//!
//! ```
//! /// Loads one shard of the training set.
//! #[pushtimer::timed(name = "load_shard")]
//! fn load_shard(i: usize) -> Vec<f32> {
//!     vec![i as f32; 4]
//! }
//!
//! load_shard(7);
//! assert!(pushtimer::render().contains("load_shard_seconds_count{outcome=\"ok\"} 1"));
//! ```
//!
//! Run the job with `PUSHGATEWAY_URL=http://pushgateway:9091` and every call's wall-clock time
//! lands in the summary `load_shard_seconds` (`_sum` in seconds, `_count` in calls), pushed to
//! the group `job=<executable name>` by a background thread, with a final push however the job
//! ends. No init call and no guard to hold; without `PUSHGATEWAY_URL` nothing touches the
//! network and [`render`] shows what would have been pushed.
//!
//! For fleets too large for one Pushgateway, `PUSHTIMER_REMOTE_WRITE_URL` sends the same
//! metrics by Prometheus remote write to a store that scales (Mimir, VictoriaMetrics,
//! Prometheus with its receiver on), instead of or beside the gateway ([`Config::remote_write`]).
//! A job tied to one host can write a file for the node exporter's textfile collector
//! (`PUSHTIMER_TEXTFILE`, [`Config::textfile`]), and a long job can serve `/metrics` to be
//! scraped while it runs (`PUSHTIMER_LISTEN`, [`Config::listen`]); every destination works alone
//! or beside the others. Pushes come every 15 s by default, jittered, and back off while a
//! server struggles.
//!
//! # What gets recorded
//! - [`timed`] on a function: each call, from entry to return (or `?`, or a panic unwinding out
//!   of it). On an `async fn`, from the first poll to completion; a future dropped before it
//!   completes is recorded too, with the time until it was dropped (a cancelled call is still a
//!   call that took that long).
//! - [`Summary`] for durations measured by hand; negative, NaN and infinite values are refused.
//! - Your own `prometheus` metrics, registered in [`registry`], are pushed alongside.
//!
//! # Metrics never hurt the job
//! A dead, slow or misconfigured gateway costs a warning and nothing else: no panic, no hang
//! beyond the push deadline (`PUSHGATEWAY_TIMEOUT`, default 5 s; a gateway that never answered
//! during the run gets one quick retry at exit instead), no change of exit code. The same
//! failure is reported once, not on every push. Warnings go through the [`log`] crate (target
//! `pushtimer`); a program without a `log` backend gets them on stderr.
//!
//! # Configuration
//! From the environment: the variables are listed, with defaults and examples, in the one
//! table of the README at the root of the source (section "Environment"). [`Config`] sets
//! the same settings in code; each of its methods names its variable and default.
#![deny(unsafe_code)]
#![warn(missing_docs)]

// Lets the code `#[timed]` generates (which names `::pushtimer`) compile inside this crate too.
extern crate self as pushtimer;

mod destinations;
mod diagnostics;
mod encode;
mod error;
mod lifecycle;
mod model;
mod push;
mod record;
mod redact;
mod settings;
mod store;
mod transport;
mod user_file;

pub use error::{InvalidMetric, InvalidObservation, InvalidValue, PushError};
pub use lifecycle::global::AlreadyInstalled;
pub use record::counter::{Counter, CounterBuilder};
pub use record::gauge::{Gauge, GaugeBuilder};
pub use record::handle::{Histogram, HistogramBuilder, Summary, SummaryBuilder};
pub use settings::config::{
    Config, DEFAULT_CARDINALITY_LIMIT, DEFAULT_NATIVE_SCHEMA, DEFAULT_PUSH_INTERVAL,
    DEFAULT_TIMEOUT, PushMethod,
};
pub use settings::server::Server;

/// The bucket bounds of `#[timed(histogram)]` and [`Histogram::builder`], in seconds: from
/// 5 ms to 4 hours, about three per decade, for batch stages that take milliseconds to hours
/// (`+Inf` is added by itself). Each bucket costs 8 bytes per shard of a series.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    1800.0, 3600.0, 7200.0, 14400.0,
];
pub use destinations::pusher::Pusher;
pub use record::timer::Timer;

/// The `prometheus` crate pushtimer is built on, for registering your own metrics in
/// [`registry`] with the same version.
pub use prometheus;

/// Times every call of a function into the Prometheus summary `<name>_seconds`.
///
/// ```
/// #[pushtimer::timed(name = "train", help = "Wall time of one training run", labels(stage = "fit"))]
/// fn train(epochs: u32) -> Result<f64, String> {
///     if epochs == 0 {
///         return Err("no epochs".into()); // recorded with outcome="error"
///     }
///     Ok(0.1)
/// }
///
/// train(3).unwrap();
/// let _ = train(0);
/// let text = pushtimer::render();
/// assert!(text.contains("# HELP train_seconds Wall time of one training run"));
/// assert!(text.contains("train_seconds_count{outcome=\"ok\",stage=\"fit\"} 1"));
/// assert!(text.contains("train_seconds_count{outcome=\"error\",stage=\"fit\"} 1"));
/// ```
///
/// # Arguments
/// All optional:
/// - `name = "x"`: the summary `x_seconds` (a name already ending in `_seconds` is not doubled).
///   Default: the function's name. Must match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
/// - `help = "..."`: the HELP text. Default: the first line of the doc comment; without one, a
///   sentence naming the function.
/// - `labels(key = "value", ...)`: constant labels on this function's series. Names must match
///   `[a-zA-Z_][a-zA-Z0-9_]*`, must not start with `__`, and must not be `job`, `instance`,
///   `quantile` or `outcome`.
/// - `histogram`: a Prometheus histogram instead of a summary, with [`DEFAULT_BUCKETS`].
/// - `buckets(0.01, 0.1, 1)`: a histogram with these bucket bounds, in seconds (finite, above
///   zero, strictly increasing; `+Inf` is added).
/// - `native_histogram`, or `native_histogram(schema = N)` with `N` from -4 to 8 (default
///   [`DEFAULT_NATIVE_SCHEMA`]): a Prometheus native histogram, exponential buckets that need
///   no bounds and merge across every job: `histogram_quantile(0.99, sum(x_seconds))`. Pushed
///   in the protobuf format that carries it; beside `buckets(...)` both kinds are kept, alone
///   it gets exact classic buckets at the powers of 4 for text readers. Not with `quantiles`.
///   See `docs/metrics.md`, "Native histograms", for what each server does with them.
///
/// ```
/// #[pushtimer::timed(name = "native_doc_step", native_histogram)]
/// fn step() {}
///
/// step();
/// assert!(pushtimer::render().contains("native_doc_step_seconds_count{outcome=\"ok\"} 1"));
/// ```
///
/// # Outcome
/// Every call is counted under the label `outcome`: `ok`, `error` (the function returned an
/// `Err`, recognised by its type under any alias), `panic` (a panic unwound out of it) or
/// `cancelled` (an `async fn` future dropped before it completed).
///
/// Functions with the same name and labels share one series. It works on free functions,
/// `async fn`, methods with any receiver, trait impl functions, generic functions (all
/// instantiations share one series), `impl Trait` returns and `unsafe fn`; not on `const fn`.
///
/// The attribute appends a "Metrics" section to the function's rustdoc naming the summary,
/// its HELP and labels, with PromQL to query it.
///
/// # Cost
/// The series is resolved on the first call and cached in a `static`; every call after that
/// costs two reads of a monotonic clock (the CPU's invariant time-stamp counter where there is
/// one, via `quanta`; else the OS's monotonic clock) and two relaxed atomic adds on the calling
/// thread's own shard of the series (so threads on different CPUs do not contend): no lock, no
/// hashing, no allocation. See BENCHMARKS.md for measurements against peers.
pub use pushtimer_macros::timed;

/// Adds to the counter `<name>_total` at the call site, resolved on the first count and cached
/// in a `static` (like a `#[timed]` function's series), so each later count is one atomic load
/// and one relaxed atomic add.
///
/// ```
/// #[pushtimer::timed(name = "count_doc_transform")]
/// fn transform(rows: &[&str]) -> usize {
///     pushtimer::count!("count_doc_transform_rows", rows.len());
///     rows.len()
/// }
///
/// transform(&["a", "b", "c"]);
/// pushtimer::count!("count_doc_retries"); // one
/// pushtimer::count!("count_doc_bytes", 4096_u64, labels(bucket = "raw"), help = "Bytes read");
/// let text = pushtimer::render();
/// assert!(text.contains("count_doc_transform_rows_total 3\n"));
/// assert!(text.contains("count_doc_retries_total 1\n"));
/// assert!(text.contains("# HELP count_doc_bytes_total Bytes read\n"));
/// assert!(text.contains("count_doc_bytes_total{bucket=\"raw\"} 4096\n"));
/// ```
///
/// # Arguments
/// - the name, a string literal: the counter `<name>_total` (`_total` is not doubled), with
///   the naming rules of `#[timed]`; a bad name is a compile error on it.
/// - what to add: any primitive integer expression (`rows.len()`, `bytes as u64`, `n`), once;
///   default 1. A negative amount is refused at run time: nothing is added, and the refusal is
///   counted in `pushtimer_rejected_observations_total{metric="<name>_total"}` with one
///   warning. A float does not compile: use a [`Gauge`] for fractions.
/// - then, optionally, `labels(key = "value", ...)` (constant labels, as `#[timed]`'s) and
///   `help = "..."` (default: `` Count of `<name>_total` kept by the job.``).
///
/// A `count!` and a [`Counter`] with the same name and labels are one series.
///
/// # Throughput
/// Name the counter after a timed function plus a unit, as above: `count_doc_transform_rows_total`
/// beside `count_doc_transform_seconds_sum`. The rows per second of a run are then
/// `count_doc_transform_rows_total / sum without (outcome) (count_doc_transform_seconds_sum)`
/// (the timed series carry `outcome`, the counter does not); the shipped dashboard shows every
/// pair named so.
pub use pushtimer_macros::count;

/// The text exposition (format 0.0.4) of everything recorded so far: what the next push
/// sends. Works without any Pushgateway.
///
/// ```
/// let queue = pushtimer::Summary::builder("render_doc_wait").register()?;
/// queue.observe(0.5)?;
/// assert!(pushtimer::render().contains("render_doc_wait_seconds_sum 0.5"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn render() -> String {
    let (text, notes) = lifecycle::global::runtime().registry.render();
    diagnostics::emit(notes);
    text
}

/// Pushes everything recorded now and waits for the push, at most the push deadline
/// (`PUSHGATEWAY_TIMEOUT`): to the gateway, to the remote-write endpoint, or to both side by
/// side. A failure is a [`PushError::Undelivered`] naming each destination that did not take
/// the push, by its URL without credentials, with why, and the one that did, if any. After
/// the final push at exit (from an `atexit` handler, say) nothing is sent any more, and the
/// answer is [`PushError::FinalPushDone`].
///
/// Not needed for the final push: that happens by itself when the process exits. Useful before
/// a long idle phase, or to learn whether the gateway took the data. Never panics.
///
/// ```
/// // Without PUSHGATEWAY_URL (or PUSHTIMER_REMOTE_WRITE_URL) there is nowhere to push:
/// match pushtimer::flush() {
///     Ok(()) => println!("pushed"),
///     Err(error) => println!("not pushed: {error}"),
/// }
/// ```
pub fn flush() -> Result<(), PushError> {
    lifecycle::global::flush()
}

/// The `prometheus` registry pushtimer pushes: register your own `prometheus` metrics (or a
/// collector) here to have them pushed with the timings, to every destination. For plain
/// counters and gauges, [`Counter`], [`Gauge`] and [`count!`] are simpler: they take
/// `PUSHTIMER_NAMESPACE` and `PUSHTIMER_LABELS` like timed series.
///
/// ```
/// let rows = pushtimer::prometheus::IntCounter::new("etl_rows_total", "Rows written.")?;
/// pushtimer::registry().register(Box::new(rows.clone()))?;
/// rows.inc_by(42);
/// assert!(pushtimer::render().contains("etl_rows_total 42"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Their names and labels are yours: `PUSHTIMER_NAMESPACE` and `PUSHTIMER_LABELS` apply to the
/// series pushtimer makes ([`Config::namespace`], [`Config::label`]), not to these. To give
/// them the same prefix and labels, say so in their options:
///
/// ```
/// use pushtimer::prometheus::{IntCounter, Opts};
///
/// let opts = Opts::new("rows_written_total", "Rows written.")
///     .namespace("acme") // as PUSHTIMER_NAMESPACE=acme
///     .const_label("team", "data"); // as PUSHTIMER_LABELS=team=data
/// let rows = IntCounter::with_opts(opts)?;
/// pushtimer::registry().register(Box::new(rows.clone()))?;
/// rows.inc();
/// assert!(pushtimer::render().contains("acme_rows_written_total{team=\"data\"} 1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn registry() -> &'static prometheus::Registry {
    lifecycle::global::runtime().registry.user()
}

/// Tells pushtimer the process's exit code, for `pushtimer_job_exit_code` and
/// `pushtimer_job_last_success_timestamp_seconds`, where the platform cannot tell it.
///
/// On Linux with glibc the C library hands the real exit status to pushtimer's exit hook, and
/// this call is not needed (the real status wins). Elsewhere (musl, macOS, Windows) the exit
/// code is unknown without it: the run's completion is still recorded, but no exit code and no
/// success, since an unknown ending is never reported as a success. Call it just before the
/// job ends:
///
/// ```
/// let code = 0; // ... the job's work decides its exit code
/// pushtimer::set_exit_code(code);
/// # if code != 0 {
/// std::process::exit(code);
/// # }
/// ```
pub fn set_exit_code(code: i32) {
    lifecycle::global::set_exit_code(code);
}

#[doc(hidden)]
pub mod __private {
    //! What the code `#[timed]` generates names; not public API.
    pub use crate::__pushtimer_default_help as default_help;
    pub use crate::__pushtimer_outcome_of as outcome_of;
    pub use crate::record::call_site::{CallSite, always, never};
    pub use crate::record::call_timer::CallTimer;
    pub use crate::record::counter_site::{Amount, CounterSite};
    pub use crate::record::outcome::{
        OtherType, OtherValue, Outcome, ResultType, ResultValue, TypeProbe, ValueProbe,
    };
    pub use crate::store::registry::Origin;
}

/// Hooks for pushtimer's own benches and tests (feature `internals`, off by default): not
/// public API, and may change in any release.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod __internals {
    pub use crate::push::lanes::PushThreadStats;
    pub use crate::push::pacing::{Feedback, Pacing};

    /// What the push threads did so far, added up; `None` when nothing is pushed. For tests of
    /// their cost.
    pub fn push_thread_stats() -> Option<PushThreadStats> {
        crate::lifecycle::global::push_thread_stats()
    }

    /// Makes every series split into shards as on a machine with `cpus` CPUs (a power of two,
    /// at most 16), for measuring memory per series; call before any series exists. False when
    /// the shard count was already decided.
    pub fn pretend_cpus(cpus: usize) -> bool {
        crate::store::shard::pretend_cpus(cpus)
    }

    /// What a push to the Pushgateway would carry now, encoded: the body and its
    /// `Content-Type` (text, or delimited protobuf when a family has native buckets). For
    /// measuring the encoding's cost.
    pub fn gateway_body() -> (Vec<u8>, &'static str) {
        let registry = &crate::lifecycle::global::runtime().registry;
        let (families, _) = registry.families_with(&registry.user_families());
        let (exposition, _) = crate::encode::exposition::for_gateway(&families);
        (exposition.bytes, exposition.content_type)
    }
}
