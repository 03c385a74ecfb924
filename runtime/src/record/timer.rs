//! The drop guard that times one call.

use quanta::Clock;

use crate::record::clock::{Reading, clock};
use crate::store::summary::SummaryCore;

/// Times from its creation until it is dropped, then records the duration in its summary.
///
/// `#[timed]` creates one at the top of the function, so the duration covers the whole call
/// however it ends: a normal return, an early `return`, `?`, or a panic unwinding through it.
/// Created by hand with [`Summary::start_timer`](crate::Summary::start_timer).
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
