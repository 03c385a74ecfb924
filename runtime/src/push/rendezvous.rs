//! The rendezvous between a lane's thread and the callers that need a round now: a flush, or
//! the last act at exit. A caller posts a request and waits for it, bounded by its deadline;
//! the thread waits for a request or for its next periodic round, whichever comes first, and
//! tells the waiters what came of the round. Requests are numbered, so one round answers every
//! request posted before it started, and a waiter never mistakes an older round for its own.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::PushError;
use crate::push::destination::LastAct;
use crate::transport::deadline;

/// What one round of the thread does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Action {
    /// A periodic round: the destination sends if it is due.
    Periodic,
    /// Send the current state, due or not (a flush).
    Push,
    /// The last act at exit.
    Last(LastAct),
}

/// The requests and their answers, shared by the thread and the callers.
pub(crate) struct Rendezvous {
    requests: Mutex<Requests>,
    /// Wakes the thread for a request.
    wake: Condvar,
    /// Wakes waiters when a request completed.
    completed: Condvar,
}

/// Requests are numbered; `done` is the highest number a completed request covered.
struct Requests {
    requested: u64,
    done: u64,
    /// When the earliest waiting requester gives up, less a margin: the thread's attempt ends
    /// by then, so the requester learns what happened rather than only that time ran out.
    deadline: Option<Instant>,
    last_result: Result<(), PushError>,
    /// The last act at exit is requested: after it nothing is sent any more.
    last_act: Option<LastAct>,
    /// The last act at exit was done: a flush after it sends nothing and says so.
    finished: bool,
}

impl Rendezvous {
    pub(crate) fn new() -> Rendezvous {
        Rendezvous {
            requests: Mutex::new(Requests {
                requested: 0,
                done: 0,
                deadline: None,
                last_result: Ok(()),
                last_act: None,
                finished: false,
            }),
            wake: Condvar::new(),
            completed: Condvar::new(),
        }
    }

    /// The thread's side: waits for a request or until `next_periodic`, and says what to do:
    /// the request number the round answers, the action, and the round's deadline (the
    /// requester's, or `timeout` from now for a periodic round).
    pub(crate) fn next_round(
        &self,
        next_periodic: Instant,
        timeout: Duration,
    ) -> (u64, Action, Instant) {
        let mut requests = self.lock();
        // A loop: a wait may end early without a request (a spurious wake-up).
        while requests.requested == requests.done {
            let left = next_periodic.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            requests = self
                .wake
                .wait_timeout(requests, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let action = if requests.requested == requests.done {
            Action::Periodic
        } else if let Some(last) = requests.last_act {
            Action::Last(last)
        } else {
            Action::Push
        };
        let deadline = match action {
            Action::Periodic => None,
            _ => requests.deadline.take(),
        };
        let deadline = deadline.unwrap_or_else(|| deadline::after(timeout));
        (requests.requested, action, deadline)
    }

    /// The thread's side: the round that answers requests up to `target` ended with `result`.
    pub(crate) fn complete(&self, target: u64, result: Result<(), PushError>, last: bool) {
        let mut requests = self.lock();
        requests.done = requests.done.max(target);
        requests.last_result = result;
        requests.finished |= last;
        self.completed.notify_all();
    }

    /// The last act at exit was done: nothing is sent any more.
    pub(crate) fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// Marks the last act done (when it ran on a caller's thread).
    pub(crate) fn finish(&self) {
        self.lock().finished = true;
    }

    /// A caller's side: asks for a round (the last act when `last` is given) whose attempt must
    /// end by `attempt_deadline`; the answer is the ticket to [`wait`](Self::wait) for.
    pub(crate) fn post(&self, last: Option<LastAct>, attempt_deadline: Instant) -> u64 {
        let mut requests = self.lock();
        requests.requested = requests.requested.saturating_add(1);
        if last.is_some() {
            requests.last_act = last;
        }
        requests.deadline = Some(
            requests
                .deadline
                .map_or(attempt_deadline, |earlier| earlier.min(attempt_deadline)),
        );
        self.wake.notify_all();
        requests.requested
    }

    /// A caller's side: what came of the round that answers `ticket`, or
    /// [`PushError::FlushDeadline`] when none did by `deadline`.
    pub(crate) fn wait(&self, ticket: u64, deadline: Instant) -> Result<(), PushError> {
        let mut requests = self.lock();
        while requests.done < ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PushError::FlushDeadline);
            }
            requests = self
                .completed
                .wait_timeout(requests, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        requests.last_result.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Requests> {
        // Every update of `Requests` is a single assignment, so a poisoned lock holds a
        // consistent state.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
