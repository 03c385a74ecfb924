//! The drop guard that times one call of a `#[timed]` function and tells how it ended.
//!
//! The generated code leaves the function's body as written and marks only the values it
//! returns: the last expression and every `return` are bound to the declared return type, and
//! [`CallTimer::mark`] is given the value's outcome (an `Err` or not). A guard dropped without a
//! mark left the call another way:
//! - a panic unwinding out of the call (the thread started panicking after the call began);
//! - for an `async fn` (whose body runs inside an inner `async` block, so that `?` and `return`
//!   land in a value the generated code sees), the future dropped before it completed;
//! - otherwise, for a function returning a `Result`, a `?` (or a `return` inside a macro such as
//!   `bail!`, which the generated code cannot see): an `Err`;
//! - otherwise an ordinary return.

use std::sync::atomic::{AtomicU8, Ordering};

use quanta::Clock;

use crate::record::clock::{Reading, clock};
use crate::record::outcome::Outcome;
use crate::store::summary::SummaryCore;

/// The series of one call site, one per outcome (see [`Outcome::ALL`]), and what the function
/// is: an outcome that cannot happen has a series no registry knows.
#[derive(Debug)]
pub(crate) struct OutcomeSeries {
    pub(crate) by_outcome: [&'static SummaryCore; 4],
    /// Returns a `Result`: an unmarked return is a `?` returning an `Err`.
    pub(crate) fallible: bool,
    /// An `async fn`: a guard dropped unmarked was a future dropped before completion.
    pub(crate) asynchronous: bool,
}

/// Not marked yet.
const RUNNING: u8 = 0;
/// Returned, not an `Err`.
const DONE_OK: u8 = 1;
/// Returned an `Err`.
const DONE_ERROR: u8 = 2;

/// Times one call from its creation until it is dropped, then records the duration in the
/// series of the call's outcome.
#[doc(hidden)]
#[must_use = "the call is recorded when the timer is dropped"]
#[derive(Debug)]
pub struct CallTimer {
    /// What to record into, how to read the time, and when the call began; `None` for a call
    /// that is not timed (see [`CallTimer::untimed`]).
    timing: Option<(&'static OutcomeSeries, &'static Clock, Reading)>,
    /// An atomic only so the guard is `Sync` (a timed `async fn`'s future stays `Sync` where it
    /// was): it is never shared, and a relaxed store or load is a plain one.
    state: AtomicU8,
    /// The call began while a panic was unwinding (from a `Drop`): a panic cannot unwind out of
    /// it (that would abort the process), so `panicking()` at its end says nothing about it.
    began_unwinding: bool,
}

impl CallTimer {
    #[inline]
    pub(crate) fn start(series: &'static OutcomeSeries) -> Self {
        let clock = clock();
        CallTimer {
            timing: Some((series, clock, Reading::now(clock))),
            state: AtomicU8::new(RUNNING),
            began_unwinding: std::thread::panicking(),
        }
    }

    /// A call made by pushtimer's own set-up (see `reentry.rs`): recorded nowhere.
    #[cold]
    pub(crate) fn untimed() -> Self {
        CallTimer {
            timing: None,
            state: AtomicU8::new(RUNNING),
            began_unwinding: false,
        }
    }

    /// The function returns a value whose outcome is `outcome` (`Error` for an `Err`).
    #[doc(hidden)]
    #[inline]
    pub fn mark(&self, outcome: Outcome) {
        let state = match outcome {
            Outcome::Error => DONE_ERROR,
            _ => DONE_OK,
        };
        self.state.store(state, Ordering::Relaxed);
    }

    /// The function returns a value that cannot be an `Err` (an `async fn` completed).
    #[doc(hidden)]
    #[inline]
    pub fn mark_ok(&self) {
        self.state.store(DONE_OK, Ordering::Relaxed);
    }

    // Inlined with the guard's `Drop`, which is inlined into every timed function.
    #[inline]
    fn outcome(&self, series: &OutcomeSeries) -> Outcome {
        if !self.began_unwinding && std::thread::panicking() {
            // Checked before the mark: a local's `Drop` may panic after the value was marked.
            return Outcome::Panic;
        }
        match self.state.load(Ordering::Relaxed) {
            DONE_OK => Outcome::Ok,
            DONE_ERROR => Outcome::Error,
            _ if series.asynchronous => Outcome::Cancelled,
            _ if series.fallible => Outcome::Error,
            _ => Outcome::Ok,
        }
    }
}

impl Drop for CallTimer {
    #[inline]
    fn drop(&mut self) {
        let Some((series, clock, start)) = self.timing else {
            return;
        };
        let nanos = start.elapsed_nanos(clock);
        if let Some(core) = series.by_outcome.get(self.outcome(series).index()) {
            core.observe_nanos(nanos);
        }
    }
}
