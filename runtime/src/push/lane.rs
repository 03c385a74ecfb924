//! One destination's lane: its own thread, which does all of that destination's network work,
//! so at most one request to it is in flight, its requests reach it in the order they were
//! made, and callers never wait on the network; and the rendezvous by which a flush (or the
//! last act at exit) asks the thread for a round and waits for it, bounded by the deadline.
//!
//! Rounds are paced by `pacing.rs` (the interval with jitter, stretched while the server
//! struggles), per lane: a struggling gateway does not slow remote write, and a round stuck
//! on a dead server holds up that server's lane only.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::diagnostics;
use crate::error::PushError;
use crate::push::destination::{Destination, LastAct, Outside, Round};
use crate::push::pacing::{Feedback, Pacing};
pub(crate) use crate::push::rendezvous::Action;
use crate::push::rendezvous::Rendezvous;
use crate::push::report::Reporter;
use crate::redact::redact_url;
use crate::store::registry::Registry;
use crate::transport::deadline;
use crate::transport::http::Exchange;
use crate::transport::retry::Retries;

/// The most a requester's deadline is shortened for the thread's attempt, so that the attempt
/// ends, and the requester learns how, before the requester gives up.
const FLUSH_MARGIN: Duration = Duration::from_millis(100);

/// A destination, its thread's rendezvous with callers, and what the thread knows of it.
pub(crate) struct Lane<D: Destination> {
    destination: D,
    reporter: Mutex<Reporter>,
    /// The server answered at least once (any HTTP status): it exists and is reachable.
    answered: AtomicBool,
    /// The push interval as set.
    interval: Duration,
    /// The deadline of a round (`PUSHGATEWAY_TIMEOUT`).
    timeout: Duration,
    /// Flushes and the last act ask the thread for rounds here.
    rendezvous: Rendezvous,
    /// False when the thread could not be started: requests then run on the caller's thread.
    thread_running: AtomicBool,
    /// Rounds the thread completed, and renders it made: an idle job's rounds render nothing.
    rounds: AtomicU64,
    renders: AtomicU64,
    /// The pacing as last recorded (for `PushThreadStats`).
    paced_interval_ns: AtomicU64,
    retry_after_ns: AtomicU64,
}

/// What a caller's request came to so far: waiting for the thread, or already done.
pub(crate) enum Posted {
    /// The thread's request number to wait for.
    Ticket(u64),
    /// Done on the caller's thread (no push thread), or refused.
    Done(Result<(), PushError>),
}

/// What the thread keeps between rounds.
pub(crate) struct LaneState<M> {
    memory: M,
    /// The last act was done: nothing more is sent.
    finished: bool,
}

impl<M: Default> Default for LaneState<M> {
    fn default() -> Self {
        LaneState {
            memory: M::default(),
            finished: false,
        }
    }
}

/// What came of one round: the result a flush returns, and what pacing learns.
pub(crate) struct RoundOutcome {
    pub(crate) result: Result<(), PushError>,
    feedback: Option<Feedback>,
}

impl RoundOutcome {
    fn quiet() -> RoundOutcome {
        RoundOutcome {
            result: Ok(()),
            feedback: None,
        }
    }
}

impl<D: Destination> Lane<D> {
    pub(crate) fn new(destination: D, interval: Duration, timeout: Duration) -> Lane<D> {
        Lane {
            destination,
            reporter: Mutex::new(Reporter::default()),
            answered: AtomicBool::new(false),
            interval,
            timeout,
            rendezvous: Rendezvous::new(),
            thread_running: AtomicBool::new(false),
            rounds: AtomicU64::new(0),
            renders: AtomicU64::new(0),
            paced_interval_ns: AtomicU64::new(nanos(interval)),
            retry_after_ns: AtomicU64::new(0),
        }
    }

    /// The lane of `destination`, as the lanes hold it.
    pub(crate) fn boxed(destination: D, interval: Duration, timeout: Duration) -> Box<dyn AnyLane> {
        Box::new(Lane::new(destination, interval, timeout))
    }

    /// Starts the lane's thread; called once.
    fn start_thread(&'static self, registry: &'static Registry) {
        self.destination.start(registry);
        // Marked running before the thread exists, so that no flush in the meantime pushes on
        // its own thread and races the thread's first push.
        self.thread_running.store(true, Ordering::Release);
        let spawned = std::thread::Builder::new()
            .name(D::THREAD.into())
            .spawn(move || self.run(registry));
        if let Err(error) = spawned {
            self.thread_running.store(false, Ordering::Release);
            diagnostics::warn(format!(
                "cannot start a push thread for {} ({error}); it gets metrics only at exit and \
                 by flush()",
                self.shown_name()
            ));
        }
    }

    fn run(&self, registry: &Registry) {
        let mut state = LaneState::<D::Memory>::default();
        let mut pacing = Pacing::new(self.interval);
        let mut next_periodic = deadline::after(pacing.first_wait());
        loop {
            let (target, action, deadline) =
                self.rendezvous.next_round(next_periodic, self.timeout);
            // Nothing in a round may stop this thread: a panic (say, in the user's logger or a
            // user collector) ends this one round only.
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let outside = Outside::now(D::TAKES_CHANGES);
                self.round(registry, action, deadline, outside, &mut state)
            }))
            .unwrap_or_else(|_| RoundOutcome {
                result: Err(PushError::Transport {
                    reason: "a panic interrupted the push".into(),
                }),
                feedback: None,
            });
            self.rounds.fetch_add(1, Ordering::Relaxed);
            let now = Instant::now();
            if let Some(feedback) = outcome.feedback {
                pacing.record(feedback, now);
                self.paced_interval_ns
                    .store(nanos(pacing.interval()), Ordering::Relaxed);
                let retry_after = match feedback.retry_after {
                    Some(asked) if pacing.retry_after_until().is_some() => asked,
                    _ => Duration::ZERO,
                };
                self.retry_after_ns
                    .store(nanos(retry_after), Ordering::Relaxed);
            }
            if action == Action::Periodic {
                next_periodic = deadline::after(pacing.next_wait(now));
            } else {
                // A flush does not move the next periodic round closer, nor before a
                // `Retry-After` it was answered with.
                if let Some(not_before) = pacing.retry_after_until() {
                    next_periodic = next_periodic.max(not_before);
                }
                let last = matches!(action, Action::Last(_));
                self.rendezvous.complete(target, outcome.result, last);
            }
        }
    }

    /// One round: sends what `action` asks for, reports what came of it.
    pub(crate) fn round(
        &self,
        registry: &Registry,
        action: Action,
        deadline: Instant,
        outside: Outside,
        state: &mut LaneState<D::Memory>,
    ) -> RoundOutcome {
        if state.finished {
            // After the last act nothing is sent: a request says so rather than pass for sent.
            return match action {
                Action::Periodic => RoundOutcome::quiet(),
                Action::Push | Action::Last(_) => RoundOutcome {
                    result: Err(PushError::FinalPushDone),
                    feedback: None,
                },
            };
        }
        let round = Round {
            registry,
            deadline,
            retries: self.retries(action == Action::Push),
            outside,
            renders: &self.renders,
        };
        let started = Instant::now();
        let exchange = match action {
            Action::Periodic | Action::Push => {
                let flush = action == Action::Push;
                let sent = self
                    .destination
                    .send_state(&round, flush, &mut state.memory);
                match sent {
                    Some(exchange) => self.heard(exchange),
                    None => return RoundOutcome::quiet(),
                }
            }
            Action::Last(last) => {
                state.finished = true;
                self.heard(self.destination.send_last(&round, last))
            }
        };
        let took = started.elapsed();
        let url = self.destination.name();
        let note = match action {
            Action::Last(_) => {
                let what = self.destination.last_act_name();
                lock(&self.reporter).report_final(what, &url, &exchange.result)
            }
            _ => lock(&self.reporter).report(&url, &exchange.result),
        };
        diagnostics::emit(note);
        let feedback = Feedback::of(&exchange.result, took, exchange.retry_after, self.interval);
        RoundOutcome {
            result: exchange.result,
            feedback: Some(feedback),
        }
    }

    /// How hard to try: a flush, which the caller waits for, retries within its deadline; on
    /// its own (periodic rounds, the last act) the thread gives a server that never answered
    /// one attempt and one quick retry, so it is not busy retrying a dead address when the job
    /// wants to exit.
    fn retries(&self, flush: bool) -> Retries {
        if flush || self.answered.load(Ordering::Relaxed) {
            Retries::WithinDeadline
        } else {
            Retries::Quick
        }
    }

    /// Notes that the server answered, if it did.
    fn heard(&self, exchange: Exchange) -> Exchange {
        if matches!(
            exchange.result,
            Ok(()) | Err(PushError::Status { .. } | PushError::Redirect { .. })
        ) {
            self.answered.store(true, Ordering::Relaxed);
        }
        exchange
    }
}

/// A lane as flushes and the last act see it, whatever its destination.
pub(crate) trait AnyLane: Send + Sync {
    /// Asks for a round (a flush, or the last act when `last` is given) that must end by
    /// `deadline`; [`AnyLane::wait`] then waits for it.
    fn post(&self, registry: &Registry, last: Option<LastAct>, deadline: Instant) -> Posted;

    /// What came of a posted request: the round's result, or [`PushError::FlushDeadline`]
    /// when it did not end by `deadline`.
    fn wait(&self, posted: Posted, deadline: Instant) -> Result<(), PushError>;

    /// Starts the lane's thread (and the destination's own work, see
    /// [`Destination::start`]); called once.
    fn spawn(&'static self, registry: &'static Registry);

    /// Reports that the last act did not end by its deadline: the process ends before the
    /// thread could say so.
    fn report_final_timeout(&self);

    /// The destination's name in a flush's error: the user's part of it (the base URL, whose
    /// credentials `url.rs` already took out) through the redaction function once more, and
    /// the part pushtimer built (the group's path, whose `@base64` must stay readable) as it is.
    fn shown_name(&self) -> String;

    /// What the lane's thread did so far.
    #[cfg(any(test, feature = "internals"))]
    fn stats(&self) -> PushThreadStats;
}

/// What a push thread did so far (for tests of its cost and its pacing).
#[cfg(any(test, feature = "internals"))]
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushThreadStats {
    /// Rounds completed (one per interval, plus one per flush).
    pub rounds: u64,
    /// Renders of the registry made for pushing.
    pub renders: u64,
    /// The push interval as it stands: the setting, or more while a server struggles.
    pub interval: Duration,
    /// The `Retry-After` being honoured, if any (zero when none).
    pub retry_after: Duration,
}

impl<D: Destination> AnyLane for Lane<D> {
    fn post(&self, registry: &Registry, last: Option<LastAct>, deadline: Instant) -> Posted {
        if self.rendezvous.is_finished() {
            // The last act already ran (a flush from an `atexit` handler of the user's, or
            // from a thread still running while the process exits): nothing more is sent.
            return Posted::Done(Err(PushError::FinalPushDone));
        }
        let action = last.map_or(Action::Push, Action::Last);
        if !self.thread_running.load(Ordering::Acquire) {
            // Sent on the caller's thread, with no lock held (the round may log).
            let mut state = LaneState::default();
            let outside = Outside::now(D::TAKES_CHANGES);
            let result = self
                .round(registry, action, deadline, outside, &mut state)
                .result;
            if last.is_some() {
                self.rendezvous.finish();
            }
            return Posted::Done(result);
        }
        let margin = (self.timeout / 10).min(FLUSH_MARGIN);
        let attempt_deadline = deadline::before(deadline, margin);
        Posted::Ticket(self.rendezvous.post(last, attempt_deadline))
    }

    fn wait(&self, posted: Posted, deadline: Instant) -> Result<(), PushError> {
        let ticket = match posted {
            Posted::Done(result) => return result,
            Posted::Ticket(ticket) => ticket,
        };
        self.rendezvous.wait(ticket, deadline)
    }

    fn spawn(&'static self, registry: &'static Registry) {
        self.start_thread(registry);
    }

    fn report_final_timeout(&self) {
        let what = self.destination.last_act_name();
        let url = self.destination.name();
        let note = lock(&self.reporter).report_final(what, &url, &Err(PushError::Timeout));
        diagnostics::emit(note);
    }

    fn shown_name(&self) -> String {
        let url = self.destination.name();
        let base = self.destination.base();
        match url.strip_prefix(base) {
            Some(path) => format!("{}{path}", redact_url(base)),
            None => redact_url(&url),
        }
    }

    #[cfg(any(test, feature = "internals"))]
    fn stats(&self) -> PushThreadStats {
        let load = |value: &AtomicU64| value.load(Ordering::Relaxed);
        PushThreadStats {
            rounds: load(&self.rounds),
            renders: load(&self.renders),
            interval: Duration::from_nanos(load(&self.paced_interval_ns)),
            retry_after: Duration::from_nanos(load(&self.retry_after_ns)),
        }
    }
}

fn lock(reporter: &Mutex<Reporter>) -> MutexGuard<'_, Reporter> {
    // The reporter is never left half-updated, and no user code runs under this lock.
    reporter.lock().unwrap_or_else(PoisonError::into_inner)
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
