//! The drop guard that times one call.

use quanta::Clock;

use crate::record::clock::{Reading, clock};
use crate::store::summary::SummaryCore;

/// Times from its creation until it is dropped, then records the duration in its summary.
///
/// Made by [`Summary::start_timer`](crate::Summary::start_timer) and
/// [`Histogram::start_timer`](crate::Histogram::start_timer), for a stretch of work that is not
/// one function call: whatever ends the stretch (the end of a scope, an early `return`, `?`,
/// a panic unwinding through it) drops the timer and records the duration.
///
/// ```
/// let load = pushtimer::Summary::builder("timer_doc_load").register()?;
/// {
///     let _timer = load.start_timer();
///     // ... the work
/// }
/// assert!(pushtimer::render().contains("timer_doc_load_seconds_count 1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "the duration is recorded when the timer is dropped; dropping it at once records ~0 s"]
#[derive(Debug)]
pub struct Timer {
    summary: &'static SummaryCore,
    clock: &'static Clock,
    start: Reading,
}

impl Timer {
    /// Starts timing into `summary` with the process's monotonic clock (see `clock.rs`): a
    /// duration is never negative.
    #[inline]
    pub(crate) fn start(summary: &'static SummaryCore) -> Self {
        let clock = clock();
        Timer {
            summary,
            clock,
            start: Reading::now(clock),
        }
    }
}

impl Drop for Timer {
    #[inline]
    fn drop(&mut self) {
        self.summary
            .observe_nanos(self.start.elapsed_nanos(self.clock));
    }
}
