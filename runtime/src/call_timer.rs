//! The drop guard that times one call of a `#[timed]` function and tells how it ended.
//!
//! The generated code marks the ways out it can see: the last expression and every `return`
//! pass through [`CallTimer::done`] (which classifies the value), and every `?` is armed just
//! before it applies and disarmed when it lets the value through. When the guard is dropped
//! without a mark, the call ended another way: a panic (the thread is panicking), a `?` that
//! returned early (armed), or, for an `async fn`, the future was dropped before completion.

use std::cell::Cell;

use quanta::Clock;

use crate::clock::{Reading, clock};
use crate::outcome::Outcome;
use crate::summary::SummaryCore;

/// The series of one call site, one per outcome (see [`Outcome::ALL`]), and what the function
/// is: an outcome that cannot happen has a series no registry knows.
#[derive(Debug)]
pub(crate) struct OutcomeSeries {
    pub(crate) by_outcome: [&'static SummaryCore; 4],
    /// Returns a `Result`: a `?` that returns early returns an `Err`.
    pub(crate) fallible: bool,
    /// An `async fn`: a guard dropped unmarked was a future dropped before completion.
    pub(crate) asynchronous: bool,
}

/// Where the call is.
const RUNNING: u8 = 0;
/// A `?` is being applied: if the guard drops now, it returned early.
const ARMED: u8 = 1;
/// Returned, not an `Err`.
const DONE_OK: u8 = 2;
/// Returned an `Err`.
const DONE_ERROR: u8 = 3;

/// Times one call from its creation until it is dropped, then records the duration in the
/// series of the call's outcome.
#[doc(hidden)]
#[must_use = "the call is recorded when the timer is dropped"]
#[derive(Debug)]
pub struct CallTimer {
    series: &'static OutcomeSeries,
    clock: &'static Clock,
    start: Reading,
    state: Cell<u8>,
}

impl CallTimer {
    #[inline]
    pub(crate) fn start(series: &'static OutcomeSeries) -> Self {
        let clock = clock();
        CallTimer {
            series,
            clock,
            start: Reading::now(clock),
            state: Cell::new(RUNNING),
        }
    }

    /// The function returns `value`; `classify` says whether it is an `Err`.
    #[doc(hidden)]
    #[inline]
    pub fn done<T>(&self, value: T, classify: impl FnOnce(&T) -> Outcome) -> T {
        let state = match classify(&value) {
            Outcome::Error => DONE_ERROR,
            _ => DONE_OK,
        };
        self.state.set(state);
        value
    }

    /// The function returns `value`, which cannot be an `Err`.
    #[doc(hidden)]
    #[inline]
    pub fn done_ok<T>(&self, value: T) -> T {
        self.state.set(DONE_OK);
        value
    }

    /// A `?` is about to be applied to `value`.
    #[doc(hidden)]
    #[inline]
    pub fn armed<T>(&self, value: T) -> T {
        self.state.set(ARMED);
        value
    }

    /// The `?` let `value` through.
    #[doc(hidden)]
    #[inline]
    pub fn disarm<T>(&self, value: T) -> T {
        self.state.set(RUNNING);
        value
    }

    fn outcome(&self) -> Outcome {
        match self.state.get() {
            DONE_OK => Outcome::Ok,
            DONE_ERROR => Outcome::Error,
            _ if std::thread::panicking() => Outcome::Panic,
            ARMED if self.series.fallible => Outcome::Error,
            ARMED => Outcome::Ok,
            _ if self.series.asynchronous => Outcome::Cancelled,
            // Left by a way out the generated code could not mark (a `return` or `?` inside
            // a macro's arguments): most likely a `?`.
            _ if self.series.fallible => Outcome::Error,
            _ => Outcome::Ok,
        }
    }
}

impl Drop for CallTimer {
    #[inline]
    fn drop(&mut self) {
        let nanos = self.start.elapsed_nanos(self.clock);
        if let Some(series) = self.series.by_outcome.get(self.outcome().index()) {
            series.observe_nanos(nanos);
        }
    }
}
