//! The background thread that pushes, and the flushes that wait for it.
//!
//! One thread does all network work, so at most one request per destination is in flight,
//! requests reach a server in the order they were made, and callers never wait on the
//! network. The destinations are the Pushgateway and the remote-write endpoint, either or
//! both; when both are set, each round sends to them side by side, so a dead one costs the
//! other nothing.
//!
//! Rounds are paced by `pacing.rs` (the interval with jitter, stretched while a server
//! struggles). In each round the gateway gets the latest state only if something changed
//! (see `changes.rs`; the user's own metrics are compared as gathered) or the keep-alive is
//! due: bursts of calls coalesce into one push, and an idle job costs nothing to render. The
//! remote-write endpoint gets every round's state, as a scrape would, so its series stay
//! fresh. [`BackgroundPusher::flush`] asks the thread for a push of the current state and
//! waits for that one, bounded by the push deadline; at exit the same happens, or a delete
//! of the gateway's group when `PUSHGATEWAY_DELETE_ON_EXIT` is set.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use prometheus::proto::MetricFamily;

use crate::changes;
use crate::config::{GatewayPlan, PushMethod, PushPlan};
use crate::deadline;
use crate::diagnostics;
use crate::error::PushError;
use crate::http::{Exchange, Request};
use crate::pacing::{Feedback, Pacing};
use crate::redact::redact_url;
use crate::registry::{self, Registry};
use crate::remote_write::RemoteWriter;
use crate::report::Reporter;
use crate::retry::Retries;
use crate::run;
use crate::write_request::Labelled;

/// The most a requester's deadline is shortened for the thread's attempt (see
/// [`Requests::deadline`]).
const FLUSH_MARGIN: Duration = Duration::from_millis(100);

pub(crate) struct BackgroundPusher {
    gateway: Option<Destination<GatewayPlan>>,
    remote_write: Option<Destination<RemoteWriter>>,
    /// The push interval as set.
    interval: Duration,
    /// The deadline of a request (`PUSHGATEWAY_TIMEOUT`, shared by the destinations).
    timeout: Duration,
    requests: Mutex<Requests>,
    /// Wakes the thread for a request.
    wake: Condvar,
    /// Wakes waiters when a request completed.
    completed: Condvar,
    /// False when the thread could not be started: requests then run on the caller's thread.
    thread_running: AtomicBool,
    /// Rounds the thread completed, and renders it made: an idle job's rounds render nothing.
    rounds: AtomicU64,
    renders: AtomicU64,
    /// The pacing as last recorded, for [`PushThreadStats`].
    paced_interval_ns: AtomicU64,
    retry_after_ns: AtomicU64,
}

/// One destination and what the thread knows of it.
struct Destination<T> {
    client: T,
    reporter: Mutex<Reporter>,
    /// The server answered at least once (any HTTP status): it exists and is reachable.
    answered: AtomicBool,
}

/// What the push thread did so far (for tests of its cost and its pacing).
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
    /// The last act at exit was done: a flush after it sends nothing and says so.
    finished: bool,
}

/// What one round of the thread does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    /// A periodic round: the gateway gets a push if the state changed since its last
    /// successful push (or the keep-alive is due); the remote-write endpoint gets one.
    Periodic,
    /// Push the current state everywhere, changed or not (a flush).
    Push,
    /// The last act at exit.
    Last(LastAct),
}

/// The last act at exit: the final push of the job's group (or its deletion), then the
/// records of the run's end (see `run.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct LastAct {
    delete: bool,
    /// Per destination: a server that never answered gets a quick try only.
    gateway_retries: Retries,
    remote_write_retries: Retries,
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
    /// Something changed that no successful push to the gateway carried yet.
    pending: bool,
    /// The user's metrics as last pushed to the gateway.
    user: Option<Vec<MetricFamily>>,
    /// The last act was done: nothing more is sent.
    finished: bool,
    /// When the last round whose push to the gateway succeeded started: the keep-alive counts
    /// from the last push, whatever rendered or was written to remote write since.
    last_success: Option<Instant>,
}

/// What a round reads from outside the thread: the clock, and whether anything was recorded
/// since the last round (the "changed" flags of `changes.rs`). Read once at the start of the
/// round by [`Outside::now`]; a round is a function of it and of the [`State`], so the
/// keep-alive can be checked without waiting five minutes or seeing the process-wide flags
/// that other code marks.
#[derive(Clone, Copy)]
struct Outside {
    /// When the round starts; a successful push to the gateway counts from then.
    now: Instant,
    /// Something was recorded since the last round.
    recorded: bool,
}

impl Outside {
    /// The clock now, and the "changed" flags taken (cleared).
    fn now() -> Outside {
        Outside {
            now: Instant::now(),
            recorded: changes::take(),
        }
    }
}

/// What came of one round: the result a flush returns, and what pacing learns.
struct RoundOutcome {
    result: Result<(), PushError>,
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

/// A job whose state does not change still pushes this often, so that its run's duration and
/// the gateway's `push_time_seconds` show it is alive (the `PushtimerJobStuck` alert waits for
/// 30 minutes without a push). Unchanged state costs one render and one push per keep-alive.
const KEEP_ALIVE: Duration = Duration::from_secs(5 * 60);

/// Whether a periodic round pushes to the gateway: something changed, or the last successful
/// push is older than [`KEEP_ALIVE`] (or there was none).
fn push_due(changed: bool, last_success: Option<Instant>, now: Instant) -> bool {
    changed || last_success.is_none_or(|last| now.saturating_duration_since(last) >= KEEP_ALIVE)
}

impl BackgroundPusher {
    pub(crate) fn new(plan: PushPlan) -> Self {
        BackgroundPusher {
            gateway: plan.gateway.map(Destination::new),
            remote_write: plan.remote_write.map(Destination::new),
            interval: plan.interval,
            timeout: plan.timeout,
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
            thread_running: AtomicBool::new(false),
            rounds: AtomicU64::new(0),
            renders: AtomicU64::new(0),
            paced_interval_ns: AtomicU64::new(nanos(plan.interval)),
            retry_after_ns: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> PushThreadStats {
        PushThreadStats {
            rounds: self.rounds.load(Ordering::Relaxed),
            renders: self.renders.load(Ordering::Relaxed),
            interval: Duration::from_nanos(self.paced_interval_ns.load(Ordering::Relaxed)),
            retry_after: Duration::from_nanos(self.retry_after_ns.load(Ordering::Relaxed)),
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
        let mut pacing = Pacing::new(self.interval);
        let mut next_periodic = deadline::after(pacing.first_wait());
        loop {
            let (target, action, deadline) = self.next_round(next_periodic);
            // Nothing in a round may stop this thread: a panic (say, in the user's logger or a
            // user collector) ends this one round only.
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                self.round(registry, action, deadline, Outside::now(), &mut state)
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
                let mut requests = self.lock_requests();
                requests.done = requests.done.max(target);
                requests.last_result = outcome.result;
                requests.finished |= matches!(action, Action::Last(_));
                self.completed.notify_all();
            }
        }
    }

    /// Waits for a request or until `next_periodic`, and says what to do.
    fn next_round(&self, next_periodic: Instant) -> (u64, Action, Instant) {
        let mut requests = self.lock_requests();
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
        let deadline = deadline.unwrap_or_else(|| deadline::after(self.timeout));
        (requests.requested, action, deadline)
    }

    fn round(
        &self,
        registry: &Registry,
        action: Action,
        deadline: Instant,
        outside: Outside,
        state: &mut State,
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
        match action {
            Action::Periodic | Action::Push => {
                // A flush pushes whatever the state; a periodic round only when it is due.
                let flush = action == Action::Push;
                state.pending |= outside.recorded;
                let user = registry.user_families();
                let changed = state.pending || state.user.as_ref() != Some(&user);
                let gateway = self
                    .gateway
                    .as_ref()
                    .filter(|_| flush || push_due(changed, state.last_success, outside.now));
                let remote_write = self.remote_write.as_ref();
                if gateway.is_none() && remote_write.is_none() {
                    return RoundOutcome::quiet();
                }
                self.renders.fetch_add(1, Ordering::Relaxed);
                let (families, notes) = registry.families_with(user.clone());
                diagnostics::emit(notes);
                let families = &families;
                let (to_gateway, to_remote) = both(
                    gateway.map(|gateway| {
                        let retries = gateway.retries(flush);
                        move || gateway.push(families, deadline, retries)
                    }),
                    remote_write.map(|remote| {
                        let retries = remote.retries(flush);
                        move || remote.write(&[(families, &[])], deadline, retries)
                    }),
                );
                if let Some((exchange, _)) = &to_gateway
                    && exchange.result.is_ok()
                {
                    state.pending = false;
                    state.user = Some(user);
                    state.last_success = Some(outside.now);
                }
                for (destination, sent) in [
                    (gateway.map(Destination::target), &to_gateway),
                    (remote_write.map(Destination::target), &to_remote),
                ] {
                    if let (Some((reporter, url)), Some((exchange, _))) = (destination, sent) {
                        let note = lock(reporter).report(&url, &exchange.result);
                        diagnostics::emit(note);
                    }
                }
                self.outcome(to_gateway, to_remote)
            }
            Action::Last(last) => {
                state.finished = true;
                self.last_act(registry, last, deadline)
            }
        }
    }

    /// The last act at exit, on both destinations side by side, each reported once.
    fn last_act(&self, registry: &Registry, last: LastAct, deadline: Instant) -> RoundOutcome {
        // The final state goes out unless the only destination is a gateway told to delete
        // the group: then nothing is rendered (and no user collector runs).
        let carries_state = !last.delete || self.remote_write.is_some();
        let families = if carries_state {
            self.renders.fetch_add(1, Ordering::Relaxed);
            let (families, notes) = registry.families_with(registry.user_families());
            diagnostics::emit(notes);
            families
        } else {
            Vec::new()
        };
        let (completion, success) = registry.record_families(last.exit_code);
        let (to_gateway, to_remote) = both(
            self.gateway.as_ref().map(|gateway| {
                let (families, completion, success) = (&families, &completion, &success);
                move || gateway.last_act(families, completion, success.as_deref(), last, deadline)
            }),
            self.remote_write.as_ref().map(|remote| {
                let mut groups: Vec<Labelled<'_>> = vec![
                    (&families, &[]),
                    (&completion, &[(run::RECORD_LABEL, run::LAST_COMPLETION)]),
                ];
                if let Some(success) = &success {
                    groups.push((success, &[(run::RECORD_LABEL, run::LAST_SUCCESS)]));
                }
                move || remote.write(&groups, deadline, last.remote_write_retries)
            }),
        );
        self.report_final(last, &to_gateway, &to_remote);
        self.outcome(to_gateway, to_remote)
    }

    fn report_final(&self, last: LastAct, to_gateway: &Sent, to_remote: &Sent) {
        let final_writes = [
            (
                self.gateway.as_ref().map(Destination::target),
                last.what(),
                to_gateway,
            ),
            (
                self.remote_write.as_ref().map(Destination::target),
                "final write",
                to_remote,
            ),
        ];
        for (destination, what, sent) in final_writes {
            if let (Some((reporter, url)), Some((exchange, _))) = (destination, sent) {
                let note = lock(reporter).report_final(what, &url, &exchange.result);
                diagnostics::emit(note);
            }
        }
    }

    /// The round's result and what pacing learns from it: strain on either destination
    /// counts, and the longer `Retry-After`. A failure names the destination that failed, and
    /// the one that took the push when there is one ([`PushError::Undelivered`]).
    fn outcome(&self, to_gateway: Sent, to_remote: Sent) -> RoundOutcome {
        let mut failed = Vec::new();
        let mut delivered = Vec::new();
        let mut feedback: Option<Feedback> = None;
        let urls = [
            self.gateway.as_ref().map(Destination::shown_url),
            self.remote_write.as_ref().map(Destination::shown_url),
        ];
        for (sent, url) in [to_gateway, to_remote].into_iter().zip(urls) {
            let (Some((exchange, took)), Some(url)) = (sent, url) else {
                continue;
            };
            let one = Feedback::of(&exchange.result, took, exchange.retry_after, self.interval);
            feedback = Some(feedback.map_or(one, |earlier| earlier.and(one)));
            match exchange.result {
                Ok(()) => delivered.push(url),
                Err(error) => failed.push((url, error)),
            }
        }
        let result = if failed.is_empty() {
            Ok(())
        } else {
            Err(PushError::Undelivered { failed, delivered })
        };
        RoundOutcome { result, feedback }
    }

    /// Pushes the current state now and waits for it, at most the push deadline.
    pub(crate) fn flush(&self, registry: &Registry) -> Result<(), PushError> {
        self.request(registry, None)
    }

    /// The last act at exit: a push of the final state, or the group's deletion when
    /// `PUSHGATEWAY_DELETE_ON_EXIT` is set. A server that never answered during the run gets
    /// one attempt and at most one quick retry: an unreachable server must not hold up the
    /// job's exit. A request still under way when the deadline passes is reported here, since
    /// the process ends before the thread could say so.
    pub(crate) fn finish(&self, registry: &Registry, exit_code: Option<i32>) {
        let last = LastAct {
            delete: self
                .gateway
                .as_ref()
                .is_some_and(|gateway| gateway.client.delete_on_exit),
            gateway_retries: self
                .gateway
                .as_ref()
                .map_or(Retries::Quick, |gateway| gateway.retries(false)),
            remote_write_retries: self
                .remote_write
                .as_ref()
                .map_or(Retries::Quick, |remote| remote.retries(false)),
            exit_code,
        };
        if let Err(PushError::FlushDeadline) = self.request(registry, Some(last)) {
            let timeout = Some((Exchange::failed(PushError::Timeout), Duration::ZERO));
            let gateway = self.gateway.as_ref().and(timeout.clone());
            let remote = self.remote_write.as_ref().and(timeout);
            self.report_final(last, &gateway, &remote);
        }
    }

    fn request(&self, registry: &Registry, last: Option<LastAct>) -> Result<(), PushError> {
        let deadline = deadline::after(self.timeout);
        if self.lock_requests().finished {
            // The final push already ran (a flush from an `atexit` handler of the user's, or
            // from a thread still running while the process exits): nothing more is sent.
            return Err(PushError::FinalPushDone);
        }
        if !self.thread_running.load(Ordering::Acquire) {
            let mut state = State::default();
            let action = last.map_or(Action::Push, Action::Last);
            // Sent on the caller's thread, with no lock held (the round may log).
            let outside = Outside::now();
            let result = self
                .round(registry, action, deadline, outside, &mut state)
                .result;
            if last.is_some() {
                self.lock_requests().finished = true;
            }
            return result;
        }
        let margin = (self.timeout / 10).min(FLUSH_MARGIN);
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
}

impl<T: Client> Destination<T> {
    fn new(client: T) -> Destination<T> {
        Destination {
            client,
            reporter: Mutex::new(Reporter::default()),
            answered: AtomicBool::new(false),
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

    /// The reporter and the URL to name in reports.
    fn target(&self) -> (&Mutex<Reporter>, String) {
        (&self.reporter, self.client.url())
    }

    /// The URL to name in a flush's error: the user's part of it (the base URL, whose
    /// credentials `url.rs` already took out) through the redaction function once more, and
    /// the part pushtimer built (the group's path, whose `@base64` must stay readable) as it is.
    fn shown_url(&self) -> String {
        let url = self.client.url();
        let base = self.client.base();
        match url.strip_prefix(base) {
            Some(path) => format!("{}{path}", redact_url(base)),
            None => redact_url(&url),
        }
    }
}

/// What the thread needs of a destination's client.
trait Client {
    /// The URL to name in messages, without credentials.
    fn url(&self) -> String;
    /// The server's base URL as the user gave it, without credentials: where
    /// [`Client::url`] starts.
    fn base(&self) -> &str;
}

impl Client for GatewayPlan {
    fn url(&self) -> String {
        self.pusher.url()
    }

    fn base(&self) -> &str {
        self.pusher.base()
    }
}

impl Client for RemoteWriter {
    fn url(&self) -> String {
        RemoteWriter::url(self).to_owned()
    }

    fn base(&self) -> &str {
        RemoteWriter::url(self)
    }
}

impl Destination<GatewayPlan> {
    /// Renders `families` and pushes them; an empty registry is not pushed.
    fn push(&self, families: &[MetricFamily], deadline: Instant, retries: Retries) -> Exchange {
        let (body, notes) = registry::encode(families);
        diagnostics::emit(notes);
        if body.is_empty() {
            return Exchange::done();
        }
        let request = match self.client.method {
            PushMethod::Put => Request::Put(&body),
            PushMethod::Post => Request::Post(&body),
        };
        self.heard(self.client.pusher.send(request, deadline, retries))
    }

    /// The final push of the group (or its deletion), then the records in groups of their own,
    /// so that no later run's push erases them.
    fn last_act(
        &self,
        families: &[MetricFamily],
        completion: &[MetricFamily],
        success: Option<&[MetricFamily]>,
        last: LastAct,
        deadline: Instant,
    ) -> Exchange {
        let retries = last.gateway_retries;
        let group = if last.delete {
            self.heard(self.client.pusher.send(Request::Delete, deadline, retries))
        } else {
            self.push(families, deadline, retries)
        };
        if let Err(error) = &group.result
            && !matches!(error, PushError::Status { .. } | PushError::Redirect { .. })
        {
            // The gateway did not answer the first request: the records would only wait for
            // it too.
            return group;
        }
        let mut records = vec![(run::LAST_COMPLETION, completion)];
        records.extend(success.map(|success| (run::LAST_SUCCESS, success)));
        let mut outcome = group;
        for (record, families) in records {
            let (body, notes) = registry::encode(families);
            diagnostics::emit(notes);
            let sent =
                self.client
                    .pusher
                    .send_record(record, Request::Put(&body), deadline, retries);
            if outcome.result.is_ok() {
                outcome = sent;
            }
        }
        outcome
    }
}

impl Destination<RemoteWriter> {
    fn write(&self, groups: &[Labelled<'_>], deadline: Instant, retries: Retries) -> Exchange {
        self.heard(self.client.write(groups, deadline, retries))
    }
}

/// What a send to one destination came to, and how long it took; `None` when not sent.
type Sent = Option<(Exchange, Duration)>;

/// Runs the two sends side by side (the second on a scoped thread) when both are given, and
/// says how long each took.
fn both<A, B>(first: Option<A>, second: Option<B>) -> (Sent, Sent)
where
    A: FnOnce() -> Exchange,
    B: FnOnce() -> Exchange + Send,
{
    fn timed(send: impl FnOnce() -> Exchange) -> (Exchange, Duration) {
        let start = Instant::now();
        let exchange = send();
        (exchange, start.elapsed())
    }
    match (first, second) {
        (Some(first), Some(second)) => std::thread::scope(|scope| {
            let spawned = std::thread::Builder::new()
                .name("pushtimer-remote-write".into())
                .spawn_scoped(scope, || timed(second));
            match spawned {
                Ok(handle) => {
                    let first = timed(first);
                    let second = handle.join().unwrap_or_else(|_| {
                        let failed = Exchange::failed(PushError::Transport {
                            reason: "a panic interrupted the write".into(),
                        });
                        (failed, Duration::ZERO)
                    });
                    (Some(first), Some(second))
                }
                Err(error) => {
                    let failed = Exchange::failed(PushError::Transport {
                        reason: format!("cannot start a thread for the write ({error})"),
                    });
                    (Some(timed(first)), Some((failed, Duration::ZERO)))
                }
            }
        }),
        (first, second) => (first.map(timed), second.map(timed)),
    }
}

fn lock(reporter: &Mutex<Reporter>) -> MutexGuard<'_, Reporter> {
    // The reporter is never left half-updated, and no user code runs under this lock.
    reporter.lock().unwrap_or_else(PoisonError::into_inner)
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;

    use crate::config::{GatewayPlan, PushMethod, PushPlan};
    use crate::env;
    use crate::pusher::Pusher;
    use crate::registry::Naming;
    use crate::run::Run;
    use crate::url::ServerUrl;

    /// The request lines (`PUT /metrics/job/x`) a loopback server answered 200, in order.
    type Received = Arc<Mutex<Vec<String>>>;

    /// A loopback HTTP server answering every request 200, keeping its request lines: it
    /// plays both the gateway and the remote-write endpoint (told apart by the path).
    fn loopback_server() -> (String, Received) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let received = Received::default();
        let kept = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || answer_each_request(stream, &kept));
            }
        });
        (url, received)
    }

    fn answer_each_request(stream: std::net::TcpStream, received: &Mutex<Vec<String>>) {
        let Ok(mut writer) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                return;
            }
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let line: Vec<&str> = request_line.split_whitespace().take(2).collect();
            received.lock().unwrap().push(line.join(" "));
            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
            if writer.write_all(answer).is_err() {
                return;
            }
        }
    }

    /// How many of the requests so far start with `prefix` (`PUT /metrics/job/`, say).
    fn count(received: &Received, prefix: &str) -> usize {
        let received = received.lock().unwrap();
        received
            .iter()
            .filter(|line| line.starts_with(prefix))
            .count()
    }

    /// The keep-alive of unchanged state counts from the last push to the gateway (periodic
    /// or flushed), not from the last render: with remote write set, every round renders and
    /// writes, and the gateway still gets unchanged state again 5 minutes after its last push,
    /// not 5 minutes after the last render (which would be never). Five minutes pass in the
    /// rounds' [`Outside::now`]; the pushes are real HTTP requests to a loopback server.
    #[test]
    fn the_keep_alive_counts_from_the_last_push_not_the_last_render() {
        let (url, received) = loopback_server();
        let write_url = format!("{url}/api/v1/write");
        let remote = ServerUrl::parse(&write_url, env::REMOTE_WRITE_URL).expect("a URL");
        let plan = PushPlan {
            gateway: Some(GatewayPlan {
                pusher: Pusher::new(&url, "keep_alive").expect("a pusher"),
                method: PushMethod::Put,
                delete_on_exit: false,
            }),
            remote_write: Some(RemoteWriter::new(remote, "keep_alive", &[])),
            interval: Duration::from_secs(15),
            timeout: Duration::from_secs(5),
            signals: false,
        };
        let pusher = BackgroundPusher::new(plan);
        let registry = Registry::new(Naming::default(), Run::new(Vec::new(), None));
        let start = Instant::now();
        let minutes = |m: u64| start + Duration::from_secs(60 * m);
        let mut state = State {
            pending: true,
            ..State::default()
        };
        let mut round = |action: Action, at: Instant| {
            let outside = Outside {
                now: at,
                recorded: false,
            };
            let deadline = Instant::now() + Duration::from_secs(5);
            let outcome = pusher.round(&registry, action, deadline, outside, &mut state);
            assert!(outcome.result.is_ok(), "{:?}", outcome.result);
        };
        let pushes = || count(&received, "PUT /metrics/job/keep_alive");
        let writes = || count(&received, "POST /api/v1/write");

        round(Action::Periodic, start);
        assert_eq!(
            (pushes(), writes()),
            (1, 1),
            "the first round pushes what is new"
        );
        // Nothing changes: every round renders and writes, and the gateway is left alone.
        for m in 1..=4 {
            round(Action::Periodic, minutes(m));
        }
        assert_eq!(
            (pushes(), writes()),
            (1, 5),
            "no push of unchanged state before 5 min"
        );
        assert_eq!(
            pusher.stats().renders,
            5,
            "each round rendered, for remote write"
        );
        // 5 minutes after the last push (1 minute after the last render): the keep-alive.
        round(Action::Periodic, minutes(5));
        assert_eq!((pushes(), writes()), (2, 6), "the keep-alive is due");
        round(Action::Periodic, minutes(6));
        assert_eq!(pushes(), 2, "the next keep-alive counts from that push");
        // A flush is a push too: the keep-alive after it counts from it.
        round(Action::Push, minutes(7));
        assert_eq!(pushes(), 3);
        round(Action::Periodic, minutes(10));
        assert_eq!(
            pushes(),
            3,
            "5 min after the keep-alive, 3 after the flush: not due"
        );
        round(Action::Periodic, minutes(12));
        assert_eq!((pushes(), writes()), (4, 10), "5 min after the flush");
    }

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
