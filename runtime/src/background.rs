//! The background thread that pushes, and the flushes that wait for it.
//!
//! One thread does all network work, so at most one request is in flight, requests reach the
//! gateway in the order they were made, and callers never wait on the network. Every
//! `push_interval` it looks whether anything changed (see `changes.rs`; the user's own metrics
//! are compared as gathered) and pushes the latest state only then: bursts of calls coalesce
//! into one push, and an idle job costs nothing to render. [`BackgroundPusher::flush`] asks it
//! for a push of the current state and waits for that one, bounded by the push deadline; at
//! exit the same happens, or a delete of the group when `PUSHGATEWAY_DELETE_ON_EXIT` is set.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use prometheus::proto::MetricFamily;

use crate::changes;
use crate::config::{PushMethod, PushPlan};
use crate::deadline;
use crate::diagnostics;
use crate::error::PushError;
use crate::http::{Request, Retries};
use crate::pusher::Pusher;
use crate::registry::Registry;
use crate::report::Reporter;
use crate::run;

/// The most a requester's deadline is shortened for the thread's attempt (see
/// [`Requests::deadline`]).
const FLUSH_MARGIN: Duration = Duration::from_millis(100);

pub(crate) struct BackgroundPusher {
    pusher: Pusher,
    interval: Duration,
    method: PushMethod,
    delete_on_exit: bool,
    requests: Mutex<Requests>,
    /// Wakes the thread for a request.
    wake: Condvar,
    /// Wakes waiters when a request completed.
    completed: Condvar,
    /// False when the thread could not be started: requests then run on the caller's thread.
    thread_running: AtomicBool,
    reporter: Mutex<Reporter>,
    /// The gateway answered at least once (any HTTP status): it exists and is reachable.
    answered: AtomicBool,
    /// Rounds the thread completed, and renders it made: an idle job's rounds render nothing.
    rounds: AtomicU64,
    renders: AtomicU64,
}

/// What the push thread did so far (for tests of its idle cost).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushThreadStats {
    /// Rounds completed (one per interval, plus one per flush).
    pub rounds: u64,
    /// Renders of the registry made for pushing.
    pub renders: u64,
}

/// Requests are numbered; `done` is the highest number a completed request covered.
struct Requests {
    requested: u64,
    done: u64,
    /// When the earliest waiting requester gives up, less a margin: the thread's attempt ends
    /// by then, so the requester learns what happened rather than only that time ran out.
    deadline: Option<Instant>,
    last_result: Result<(), PushError>,
    /// The last act at exit is requested: after it nothing is pushed any more.
    last_act: Option<LastAct>,
}

/// What one round of the thread does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Push if the state changed since the last successful push.
    PushIfChanged,
    /// Push the current state, changed or not (a flush).
    Push,
    /// The last act at exit.
    Last(LastAct),
}

/// The last act at exit: the final push of the job's group (or its deletion), then the
/// records of the run's end (see `run.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct LastAct {
    delete: bool,
    retries: Retries,
    /// The process's exit code, when known.
    exit_code: Option<i32>,
}

impl LastAct {
    fn what(self) -> &'static str {
        if self.delete {
            "deletion of the group"
        } else {
            "final push"
        }
    }
}

/// What the thread remembers between rounds.
#[derive(Default)]
struct State {
    /// Something changed that no successful push carried yet.
    pending: bool,
    /// The user's metrics as last pushed.
    user: Option<Vec<MetricFamily>>,
    /// The last act was done: nothing more is sent.
    finished: bool,
    /// When a push last succeeded.
    last_success: Option<Instant>,
}

/// A job whose state does not change still pushes this often, so that its run's duration and
/// the gateway's `push_time_seconds` show it is alive (the `PushtimerJobStuck` alert waits for
/// 30 minutes without a push). Unchanged state costs one render and one push per keep-alive.
const KEEP_ALIVE: Duration = Duration::from_secs(5 * 60);

/// Whether a periodic round pushes: something changed, or the last successful push is older
/// than [`KEEP_ALIVE`] (or there was none).
fn push_due(changed: bool, last_success: Option<Instant>, now: Instant) -> bool {
    changed || last_success.is_none_or(|last| now.saturating_duration_since(last) >= KEEP_ALIVE)
}

impl BackgroundPusher {
    pub(crate) fn new(plan: PushPlan) -> Self {
        BackgroundPusher {
            pusher: plan.pusher,
            interval: plan.interval,
            method: plan.method,
            delete_on_exit: plan.delete_on_exit,
            requests: Mutex::new(Requests {
                requested: 0,
                done: 0,
                deadline: None,
                last_result: Ok(()),
                last_act: None,
            }),
            wake: Condvar::new(),
            completed: Condvar::new(),
            thread_running: AtomicBool::new(false),
            reporter: Mutex::new(Reporter::default()),
            answered: AtomicBool::new(false),
            rounds: AtomicU64::new(0),
            renders: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> PushThreadStats {
        PushThreadStats {
            rounds: self.rounds.load(Ordering::Relaxed),
            renders: self.renders.load(Ordering::Relaxed),
        }
    }

    /// Starts the thread; called once.
    pub(crate) fn spawn(&'static self, registry: &'static Registry) {
        // Marked running before the thread exists, so that no flush in the meantime pushes on
        // its own thread and races the push thread's first push.
        self.thread_running.store(true, Ordering::Release);
        let spawned = std::thread::Builder::new()
            .name("pushtimer".into())
            .spawn(move || self.run(registry));
        if let Err(error) = spawned {
            self.thread_running.store(false, Ordering::Release);
            diagnostics::warn(format!(
                "cannot start the push thread ({error}); metrics are pushed only at exit and by flush()"
            ));
        }
    }

    fn run(&self, registry: &Registry) {
        // Everything recorded before the thread started is news.
        let mut state = State {
            pending: true,
            ..State::default()
        };
        loop {
            let (target, action, deadline) = self.next_round();
            // Nothing in a round may stop this thread: a panic (say, in the user's logger or a
            // user collector) ends this one round only.
            let result = catch_unwind(AssertUnwindSafe(|| {
                self.round(registry, action, deadline, &mut state)
            }))
            .unwrap_or_else(|_| {
                Err(PushError::Transport {
                    reason: "a panic interrupted the push".into(),
                })
            });
            self.rounds.fetch_add(1, Ordering::Relaxed);
            if action != Action::PushIfChanged {
                let mut requests = self.lock_requests();
                requests.done = requests.done.max(target);
                requests.last_result = result;
                self.completed.notify_all();
            }
        }
    }

    /// Waits for a request or the interval, and says what to do.
    fn next_round(&self) -> (u64, Action, Instant) {
        let mut requests = self.lock_requests();
        if requests.requested == requests.done {
            requests = self
                .wake
                .wait_timeout(requests, self.interval)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let action = if requests.requested == requests.done {
            Action::PushIfChanged
        } else if let Some(last) = requests.last_act {
            Action::Last(last)
        } else {
            Action::Push
        };
        let deadline = match action {
            Action::PushIfChanged => None,
            _ => requests.deadline.take(),
        };
        let deadline = deadline.unwrap_or_else(|| deadline::after(self.pusher.deadline()));
        (requests.requested, action, deadline)
    }

    fn round(
        &self,
        registry: &Registry,
        action: Action,
        deadline: Instant,
        state: &mut State,
    ) -> Result<(), PushError> {
        if state.finished {
            return Ok(());
        }
        match action {
            Action::PushIfChanged | Action::Push => {
                // A flush pushes whatever the state; a periodic round only when it is due.
                let flush = action == Action::Push;
                state.pending |= changes::take();
                let user = registry.user_families();
                let changed = state.pending || state.user.as_ref() != Some(&user);
                if !flush && !push_due(changed, state.last_success, Instant::now()) {
                    return Ok(());
                }
                let retries = if flush {
                    Retries::WithinDeadline
                } else {
                    self.retries()
                };
                let result = self.push(registry, user.clone(), deadline, retries);
                self.report(&result);
                if result.is_ok() {
                    state.pending = false;
                    state.user = Some(user);
                    state.last_success = Some(Instant::now());
                }
                result
            }
            Action::Last(last) => {
                state.finished = true;
                let result = self.last_act(registry, last, deadline);
                self.report_final(last, &result);
                result
            }
        }
    }

    fn last_act(
        &self,
        registry: &Registry,
        last: LastAct,
        deadline: Instant,
    ) -> Result<(), PushError> {
        let retries = last.retries;
        let group = if last.delete {
            self.send(Request::Delete, deadline, retries)
        } else {
            self.push(registry, registry.user_families(), deadline, retries)
        };
        if let Err(error) = &group
            && !matches!(error, PushError::Status { .. })
        {
            // The gateway did not answer the first request: the records would only wait for
            // it too.
            return group;
        }
        // The records go to groups of their own, so that no later run's push erases them.
        let (completion, success) = registry.records(last.exit_code);
        let completed = self.pusher.send_record(
            run::LAST_COMPLETION,
            Request::Put(&completion),
            deadline,
            retries,
        );
        let succeeded = match &success {
            Some(success) => {
                self.pusher
                    .send_record(run::LAST_SUCCESS, Request::Put(success), deadline, retries)
            }
            None => Ok(()),
        };
        group.and(completed).and(succeeded)
    }

    /// Renders and pushes; an empty registry is not pushed.
    fn push(
        &self,
        registry: &Registry,
        user: Vec<MetricFamily>,
        deadline: Instant,
        retries: Retries,
    ) -> Result<(), PushError> {
        self.renders.fetch_add(1, Ordering::Relaxed);
        let (body, notes) = registry.render_with(user);
        diagnostics::emit(notes);
        if body.is_empty() {
            return Ok(());
        }
        let request = match self.method {
            PushMethod::Put => Request::Put(&body),
            PushMethod::Post => Request::Post(&body),
        };
        self.send(request, deadline, retries)
    }

    fn send(
        &self,
        request: Request<'_>,
        deadline: Instant,
        retries: Retries,
    ) -> Result<(), PushError> {
        let result = self.pusher.send(request, deadline, retries);
        if matches!(result, Ok(()) | Err(PushError::Status { .. })) {
            self.answered.store(true, Ordering::Relaxed);
        }
        result
    }

    /// How hard the thread tries on its own (not for a flush, which the caller waits for): a
    /// gateway that never answered gets one attempt and one quick retry, so the thread is not
    /// busy retrying a dead address when the job wants to exit.
    fn retries(&self) -> Retries {
        if self.answered.load(Ordering::Relaxed) {
            Retries::WithinDeadline
        } else {
            Retries::Quick
        }
    }

    fn report(&self, result: &Result<(), PushError>) {
        let note = self.lock_reporter().report(&self.pusher.url(), result);
        diagnostics::emit(note);
    }

    fn report_final(&self, last: LastAct, result: &Result<(), PushError>) {
        let note = self
            .lock_reporter()
            .report_final(last.what(), &self.pusher.url(), result);
        diagnostics::emit(note);
    }

    /// Pushes the current state now and waits for it, at most the push deadline.
    pub(crate) fn flush(&self, registry: &Registry) -> Result<(), PushError> {
        self.request(registry, None)
    }

    /// The last act at exit: a push of the final state, or the group's deletion when
    /// `PUSHGATEWAY_DELETE_ON_EXIT` is set. A gateway that never answered during the run gets
    /// one attempt and at most one quick retry: an unreachable gateway must not hold up the
    /// job's exit. A request still under way when the deadline passes is reported here, since
    /// the process ends before the thread could say so.
    pub(crate) fn finish(&self, registry: &Registry, exit_code: Option<i32>) {
        let last = LastAct {
            delete: self.delete_on_exit,
            retries: self.retries(),
            exit_code,
        };
        if let Err(PushError::FlushDeadline) = self.request(registry, Some(last)) {
            self.report_final(last, &Err(PushError::Timeout));
        }
    }

    fn request(&self, registry: &Registry, last: Option<LastAct>) -> Result<(), PushError> {
        let deadline = deadline::after(self.pusher.deadline());
        if !self.thread_running.load(Ordering::Acquire) {
            return match last {
                Some(last) => {
                    let result = self.last_act(registry, last, deadline);
                    self.report_final(last, &result);
                    result
                }
                None => {
                    let result = self.push(
                        registry,
                        registry.user_families(),
                        deadline,
                        Retries::WithinDeadline,
                    );
                    self.report(&result);
                    result
                }
            };
        }
        let margin = (self.pusher.deadline() / 10).min(FLUSH_MARGIN);
        let mut requests = self.lock_requests();
        requests.requested = requests.requested.saturating_add(1);
        if last.is_some() {
            requests.last_act = last;
        }
        let attempt_deadline = deadline::before(deadline, margin);
        requests.deadline = Some(
            requests
                .deadline
                .map_or(attempt_deadline, |earlier| earlier.min(attempt_deadline)),
        );
        let ticket = requests.requested;
        self.wake.notify_all();
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

    fn lock_requests(&self) -> MutexGuard<'_, Requests> {
        // Every update of `Requests` is a single assignment, so a poisoned lock holds a
        // consistent state.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_reporter(&self) -> MutexGuard<'_, Reporter> {
        // The reporter is never left half-updated, and no user code runs under this lock.
        self.reporter.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_state_is_pushed_again_only_after_the_keep_alive() {
        let now = Instant::now();
        assert!(push_due(true, Some(now), now));
        assert!(push_due(false, None, now));
        assert!(!push_due(false, Some(now), now));
        let earlier = now.checked_sub(KEEP_ALIVE).unwrap_or(now);
        assert_eq!(push_due(false, Some(earlier), now), earlier < now);
    }
}
