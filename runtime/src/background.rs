//! The background thread that pushes, and the flushes that wait for it.
//!
//! One thread does all network work, so at most one request is in flight, requests reach the
//! gateway in the order they were made, and callers never wait on the network. Every
//! `push_interval` it renders the registry and pushes if anything changed since the last
//! successful push (bursts of calls coalesce into one push of the latest state).
//! [`BackgroundPusher::flush`] asks it for a push of the current state and waits for that one,
//! bounded by the push deadline; at exit the same happens, or a delete of the group when
//! `PUSHGATEWAY_DELETE_ON_EXIT` is set.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::config::PushMethod;
use crate::error::PushError;
use crate::pusher::{Pusher, Request};
use crate::registry::Registry;
use crate::report::Reporter;

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
}

/// Requests are numbered; `done` is the highest number a completed request covered.
struct Requests {
    requested: u64,
    done: u64,
    /// When the earliest waiting requester gives up, less a margin: the thread's attempt ends
    /// by then, so the requester learns what happened rather than only that time ran out.
    deadline: Option<Instant>,
    last_result: Result<(), PushError>,
    /// The group is to be deleted (at exit); after that nothing is pushed any more.
    delete: bool,
}

/// What one round of the thread does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Push if the state changed since the last successful push.
    PushIfChanged,
    /// Push the current state, changed or not (a flush).
    Push,
    /// Delete the group.
    Delete,
}

impl BackgroundPusher {
    pub(crate) fn new(
        pusher: Pusher,
        interval: Duration,
        method: PushMethod,
        delete_on_exit: bool,
    ) -> Self {
        BackgroundPusher {
            pusher,
            interval,
            method,
            delete_on_exit,
            requests: Mutex::new(Requests {
                requested: 0,
                done: 0,
                deadline: None,
                last_result: Ok(()),
                delete: false,
            }),
            wake: Condvar::new(),
            completed: Condvar::new(),
            thread_running: AtomicBool::new(false),
            reporter: Mutex::new(Reporter::default()),
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
            log::warn!(
                "pushtimer: cannot start the push thread ({error}); metrics are pushed only at exit and by flush()"
            );
        }
    }

    fn run(&self, registry: &Registry) {
        let mut last_pushed: Option<String> = None;
        let mut deleted = false;
        loop {
            let (target, action, deadline) = {
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
                } else if requests.delete {
                    Action::Delete
                } else {
                    Action::Push
                };
                let deadline = match action {
                    Action::PushIfChanged => None,
                    _ => requests.deadline.take(),
                };
                let deadline = deadline.unwrap_or_else(|| Instant::now() + self.pusher.deadline());
                (requests.requested, action, deadline)
            };
            // Nothing in a round may stop this thread: a panic (say, in the user's logger) ends
            // this one round only.
            let result = catch_unwind(AssertUnwindSafe(|| {
                if deleted {
                    return Ok(());
                }
                if action == Action::Delete {
                    deleted = true;
                    return self.report(self.pusher.send(Request::Delete, deadline));
                }
                self.push_if_needed(registry, action == Action::Push, deadline, &mut last_pushed)
            }))
            .unwrap_or_else(|_| {
                Err(PushError::Transport {
                    reason: "a panic interrupted the push".into(),
                })
            });
            if action != Action::PushIfChanged {
                let mut requests = self.lock_requests();
                requests.done = requests.done.max(target);
                requests.last_result = result;
                self.completed.notify_all();
            }
        }
    }

    /// Pushes the current state when `forced` or when it changed since the last success.
    fn push_if_needed(
        &self,
        registry: &Registry,
        forced: bool,
        deadline: Instant,
        last_pushed: &mut Option<String>,
    ) -> Result<(), PushError> {
        let body = registry.render();
        if body.is_empty() || (!forced && last_pushed.as_deref() == Some(body.as_str())) {
            return Ok(());
        }
        let result = self.push(&body, deadline);
        if result.is_ok() {
            *last_pushed = Some(body);
        }
        result
    }

    fn push(&self, body: &str, deadline: Instant) -> Result<(), PushError> {
        let request = match self.method {
            PushMethod::Put => Request::Put(body),
            PushMethod::Post => Request::Post(body),
        };
        self.report(self.pusher.send(request, deadline))
    }

    fn report(&self, result: Result<(), PushError>) -> Result<(), PushError> {
        self.reporter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .report(&self.pusher.url(), &result);
        result
    }

    /// Pushes the current state now and waits for it, at most the push deadline.
    pub(crate) fn flush(&self, registry: &Registry) -> Result<(), PushError> {
        self.request(registry, false)
    }

    /// The last act at exit: a push of the final state, or the group's deletion when
    /// `PUSHGATEWAY_DELETE_ON_EXIT` is set. A request still under way when the deadline passes
    /// is reported here, since the process ends before the thread could say so.
    pub(crate) fn finish(&self, registry: &Registry) {
        if let Err(PushError::FlushDeadline) = self.request(registry, self.delete_on_exit) {
            let _ = self.report(Err(PushError::Timeout));
        }
    }

    fn request(&self, registry: &Registry, delete: bool) -> Result<(), PushError> {
        let deadline = Instant::now() + self.pusher.deadline();
        if !self.thread_running.load(Ordering::Acquire) {
            if delete {
                return self.report(self.pusher.send(Request::Delete, deadline));
            }
            let body = registry.render();
            return if body.is_empty() {
                Ok(())
            } else {
                self.push(&body, deadline)
            };
        }
        let margin = (self.pusher.deadline() / 10).min(FLUSH_MARGIN);
        let mut requests = self.lock_requests();
        requests.requested += 1;
        requests.delete |= delete;
        let attempt_deadline = deadline.checked_sub(margin).unwrap_or(deadline);
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
}
