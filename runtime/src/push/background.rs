//! The push threads and the flushes that wait for them.
//!
//! Each destination (the Pushgateway, the remote-write endpoint, either or both) has a lane
//! of its own (`lane.rs`): a thread that does all of its network work, paced on its own. So
//! when both are set they are sent to side by side, and a dead or stalled one costs the other
//! nothing: not a periodic round, not a flush, not the final push at exit, which would
//! otherwise wait behind a round stuck on the dead one. [`BackgroundPusher::flush`] asks every
//! lane for a push of the current state and waits for all of them, bounded by one push
//! deadline; at exit the same happens with the last act (see `destination.rs`).

use std::time::Duration;

use crate::error::PushError;
use crate::push::destination::LastAct;
use crate::push::lane::{AnyLane, Lane, Posted};
use crate::settings::config::{GatewayPlan, PushPlan};
use crate::transport::deadline;

use crate::destinations::remote_write::RemoteWriter;
pub use crate::push::lane::PushThreadStats;
use crate::store::registry::Registry;

pub(crate) struct BackgroundPusher {
    gateway: Option<Lane<GatewayPlan>>,
    remote_write: Option<Lane<RemoteWriter>>,
    /// The deadline of a flush or of the last act (`PUSHGATEWAY_TIMEOUT`).
    timeout: Duration,
}

impl BackgroundPusher {
    pub(crate) fn new(plan: PushPlan) -> Self {
        let (interval, timeout) = (plan.interval, plan.timeout);
        BackgroundPusher {
            gateway: plan
                .gateway
                .map(|gateway| Lane::new(gateway, interval, timeout)),
            remote_write: plan
                .remote_write
                .map(|remote| Lane::new(remote, interval, timeout)),
            timeout,
        }
    }

    /// Every lane, the gateway's first.
    fn lanes(&self) -> Vec<&dyn AnyLane> {
        let mut lanes: Vec<&dyn AnyLane> = Vec::with_capacity(2);
        if let Some(gateway) = &self.gateway {
            lanes.push(gateway);
        }
        if let Some(remote) = &self.remote_write {
            lanes.push(remote);
        }
        lanes
    }

    pub(crate) fn stats(&self) -> PushThreadStats {
        let mut all = PushThreadStats {
            rounds: 0,
            renders: 0,
            interval: Duration::ZERO,
            retry_after: Duration::ZERO,
        };
        for lane in self.lanes() {
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
        if let Some(gateway) = &self.gateway {
            gateway.spawn(registry);
        }
        if let Some(remote) = &self.remote_write {
            remote.spawn(registry);
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
                Ok(()) => delivered.push(lane.shown_url()),
                Err(error) => failed.push((lane.shown_url(), error)),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(PushError::Undelivered { failed, delivered })
        }
    }

    /// The last act at exit: a push of the final state, or the group's deletion when
    /// `PUSHGATEWAY_DELETE_ON_EXIT` is set, then the run's records. A server that never
    /// answered during the run gets one attempt and at most one quick retry: an unreachable
    /// server must not hold up the job's exit. A last act still under way when the deadline
    /// passes is reported here, since the process ends before its thread could say so.
    pub(crate) fn finish(&self, registry: &Registry, exit_code: Option<i32>) {
        let last = LastAct {
            delete: self
                .gateway
                .as_ref()
                .is_some_and(|gateway| gateway.destination().delete_on_exit),
            exit_code,
        };
        for (lane, result) in self.request(registry, Some(last)) {
            if let Err(PushError::FlushDeadline) = result {
                lane.report_final_timeout(last);
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
            .lanes()
            .into_iter()
            .map(|lane| (lane, lane.post(registry, last, deadline)))
            .collect();
        posted
            .into_iter()
            .map(|(lane, posted)| (lane, lane.wait(posted, deadline)))
            .collect()
    }
}
