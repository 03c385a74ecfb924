//! The background thread that pushes, and the flushes that wait for it.
//!
//! One thread does all network work, so at most one push is in flight and callers never wait
//! on the network. Every `push_interval` it renders the registry and pushes if anything changed
//! since the last successful push (bursts of calls coalesce into one push of the latest state).
//! [`BackgroundPusher::flush`] asks it for a push of the current state and waits for that one,
//! bounded by the push deadline.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::PushError;
use crate::pusher::Pusher;
use crate::registry::Registry;
use crate::report::Reporter;

pub(crate) struct BackgroundPusher {
    pusher: Pusher,
    interval: Duration,
    flushes: Mutex<Flushes>,
    /// Wakes the thread for a flush.
    wake: Condvar,
    /// Wakes flushers when a push completed.
    completed: Condvar,
    /// False when the thread could not be started: flushes then push on the caller's thread.
    thread_running: AtomicBool,
    reporter: Mutex<Reporter>,
}

/// Flush requests are numbered; `done` is the highest number a completed push covered.
struct Flushes {
    requested: u64,
    done: u64,
    last_result: Result<(), PushError>,
}

impl BackgroundPusher {
    pub(crate) fn new(pusher: Pusher, interval: Duration) -> Self {
        BackgroundPusher {
            pusher,
            interval,
            flushes: Mutex::new(Flushes {
                requested: 0,
                done: 0,
                last_result: Ok(()),
            }),
            wake: Condvar::new(),
            completed: Condvar::new(),
            thread_running: AtomicBool::new(false),
            reporter: Mutex::new(Reporter::default()),
        }
    }

    /// Starts the thread; called once.
    pub(crate) fn spawn(&'static self, registry: &'static Registry) {
        let spawned = std::thread::Builder::new()
            .name("pushtimer".into())
            .spawn(move || self.run(registry));
        match spawned {
            Ok(_) => self.thread_running.store(true, Ordering::Release),
            Err(error) => log::warn!(
                "pushtimer: cannot start the push thread ({error}); metrics are pushed only at exit and by flush()"
            ),
        }
    }

    fn run(&self, registry: &Registry) {
        let mut last_pushed: Option<String> = None;
        loop {
            let (target, forced) = {
                let mut flushes = self.lock_flushes();
                if flushes.requested == flushes.done {
                    flushes = self
                        .wake
                        .wait_timeout(flushes, self.interval)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                (flushes.requested, flushes.requested > flushes.done)
            };
            // Nothing in a push may stop this thread: a panic (say, in the user's logger) ends
            // this one attempt only.
            let result = catch_unwind(AssertUnwindSafe(|| {
                self.push_if_needed(registry, forced, &mut last_pushed)
            }))
            .unwrap_or_else(|_| {
                Err(PushError::Transport {
                    reason: "a panic interrupted the push".into(),
                })
            });
            if forced {
                let mut flushes = self.lock_flushes();
                flushes.done = flushes.done.max(target);
                flushes.last_result = result;
                self.completed.notify_all();
            }
        }
    }

    /// Pushes the current state when `forced` or when it changed since the last success.
    fn push_if_needed(
        &self,
        registry: &Registry,
        forced: bool,
        last_pushed: &mut Option<String>,
    ) -> Result<(), PushError> {
        let body = registry.render();
        if body.is_empty() || (!forced && last_pushed.as_deref() == Some(body.as_str())) {
            return Ok(());
        }
        let result = self.push_and_report(&body);
        if result.is_ok() {
            *last_pushed = Some(body);
        }
        result
    }

    fn push_and_report(&self, body: &str) -> Result<(), PushError> {
        let result = self.pusher.push(body);
        self.reporter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .report(&self.pusher.url(), &result);
        result
    }

    /// Pushes the current state now and waits for it, at most the push deadline.
    pub(crate) fn flush(&self, registry: &Registry) -> Result<(), PushError> {
        if !self.thread_running.load(Ordering::Acquire) {
            let body = registry.render();
            return if body.is_empty() {
                Ok(())
            } else {
                self.push_and_report(&body)
            };
        }
        let deadline = Instant::now() + self.pusher.deadline();
        let mut flushes = self.lock_flushes();
        flushes.requested += 1;
        let ticket = flushes.requested;
        self.wake.notify_all();
        while flushes.done < ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PushError::FlushDeadline);
            }
            flushes = self
                .completed
                .wait_timeout(flushes, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        flushes.last_result.clone()
    }

    /// The flush at exit. A push that fails is reported by the thread; one that is still under
    /// way when the deadline passes is reported here, since the process ends before the
    /// thread could say so.
    pub(crate) fn final_flush(&self, registry: &Registry) {
        if let Err(PushError::FlushDeadline) = self.flush(registry) {
            let timeout = Err(PushError::Timeout);
            self.reporter
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .report(&self.pusher.url(), &timeout);
        }
    }

    fn lock_flushes(&self) -> MutexGuard<'_, Flushes> {
        // Every update of `Flushes` is a single assignment, so a poisoned lock holds a
        // consistent state.
        self.flushes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
