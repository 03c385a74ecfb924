//! The lanes together: every destination's lane (`lane.rs`), asked at once for a flush or for
//! the last act at exit, and waited for within one deadline.
//!
//! Each destination has a lane of its own, a thread that does all of its work, paced on its
//! own. So destinations are sent to side by side, and a dead or stalled one costs the others
//! nothing: not a periodic round, not a flush, not the final push at exit, which would
//! otherwise wait behind a round stuck on the dead one. [`Lanes::flush`] asks every lane for a
//! push of the current state and waits for all of them, bounded by one push deadline; at exit
//! the same happens with the last act (see `destination.rs`).

use std::time::Duration;

use crate::error::PushError;
use crate::push::destination::LastAct;
#[cfg(feature = "internals")]
pub use crate::push::lane::PushThreadStats;
use crate::push::lane::{AnyLane, Posted};
use crate::store::registry::Registry;
use crate::transport::deadline;

/// Every destination's lane, in the order they were built (see `destinations/mod.rs`).
pub(crate) struct Lanes {
    lanes: Vec<Box<dyn AnyLane>>,
    /// The deadline of a flush or of the last act (`PUSHGATEWAY_TIMEOUT`).
    timeout: Duration,
    /// Take SIGTERM and SIGINT for a final push.
    pub(crate) signals: bool,
}

impl Lanes {
    /// The lanes of at least one destination.
    pub(crate) fn new(lanes: Vec<Box<dyn AnyLane>>, timeout: Duration, signals: bool) -> Lanes {
        Lanes {
            lanes,
            timeout,
            signals,
        }
    }

    /// The destinations' names, in order (for tests of what was built).
    #[cfg(test)]
    pub(crate) fn names(&self) -> Vec<String> {
        self.lanes.iter().map(|lane| lane.shown_name()).collect()
    }

    /// What the lanes' threads did so far, added up (the longest interval and `Retry-After`).
    #[cfg(feature = "internals")]
    pub(crate) fn stats(&self) -> PushThreadStats {
        let mut all = PushThreadStats {
            rounds: 0,
            renders: 0,
            interval: Duration::ZERO,
            retry_after: Duration::ZERO,
        };
        for lane in &self.lanes {
            let one = lane.stats();
            all.rounds = all.rounds.saturating_add(one.rounds);
            all.renders = all.renders.saturating_add(one.renders);
            all.interval = all.interval.max(one.interval);
            all.retry_after = all.retry_after.max(one.retry_after);
        }
        all
    }

    /// Starts the lanes' threads; called once.
    pub(crate) fn spawn(&'static self, registry: &'static Registry) {
        for lane in &self.lanes {
            lane.spawn(registry);
        }
    }

    /// Pushes the current state everywhere now and waits for it, at most the push deadline.
    /// A failure names each destination that did not take it, and those that did
    /// ([`PushError::Undelivered`]).
    pub(crate) fn flush(&self, registry: &Registry) -> Result<(), PushError> {
        let results = self.request(registry, None);
        if results
            .iter()
            .any(|(_, result)| matches!(result, Err(PushError::FinalPushDone)))
        {
            return Err(PushError::FinalPushDone);
        }
        let mut failed = Vec::new();
        let mut delivered = Vec::new();
        for (lane, result) in results {
            match result {
                Ok(()) => delivered.push(lane.shown_name()),
                Err(error) => failed.push((lane.shown_name(), error)),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(PushError::Undelivered { failed, delivered })
        }
    }

    /// The last act at exit: each destination's final state (or, for the gateway with
    /// `PUSHGATEWAY_DELETE_ON_EXIT`, the group's deletion), then the run's records. A server
    /// that never answered during the run gets one attempt and at most one quick retry: an
    /// unreachable server must not hold up the job's exit. A last act still under way when the
    /// deadline passes is reported here, since the process ends before its thread could say so.
    pub(crate) fn finish(&self, registry: &Registry, exit_code: Option<i32>) {
        let last = LastAct { exit_code };
        for (lane, result) in self.request(registry, Some(last)) {
            if let Err(PushError::FlushDeadline) = result {
                lane.report_final_timeout();
            }
        }
    }

    /// Asks every lane for the round at once, then waits for each, all within one deadline.
    fn request(
        &self,
        registry: &Registry,
        last: Option<LastAct>,
    ) -> Vec<(&dyn AnyLane, Result<(), PushError>)> {
        let deadline = deadline::after(self.timeout);
        let posted: Vec<(&dyn AnyLane, Posted)> = self
            .lanes
            .iter()
            .map(|lane| (lane.as_ref(), lane.post(registry, last, deadline)))
            .collect();
        posted
            .into_iter()
            .map(|(lane, posted)| (lane, lane.wait(posted, deadline)))
            .collect()
    }
}
