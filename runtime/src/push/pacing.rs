//! When a lane's next periodic round comes (each destination is paced on its own): the push
//! interval, with jitter so that a fleet started together does not push in lockstep, stretched
//! while the server struggles.
//!
//! - **Jitter.** The first round comes at a random point between a tenth of the interval and the
//!   whole interval (a CronJob fleet started on the same minute spreads over the interval at
//!   once; no job pushes in its first tenth, which a short job never outlives anyway); every
//!   later wait is the interval ± 20 %, so the fleet stays spread.
//! - **Backoff.** A push that the server answered 429 or 5xx, that found no server (refused,
//!   timed out, cut off), or that took more than a quarter of the interval at least doubles
//!   the interval: to four times what the push took, if that is more (a push that took 5 s
//!   asks for 20 s at once, rather than after several doublings). The interval stays within
//!   [`MAX_STRETCH`] times the setting and never past [`STRETCH_CAP`] (unless the setting
//!   itself is longer). Each healthy push shrinks it by a third, back down to the setting:
//!   gently, so that a fleet which overloaded a server does not come back all at once (the
//!   fleet simulation in `bench/` showed a Pushgateway past its limit completing almost
//!   nothing, because it keeps working on pushes whose clients gave up).
//! - **`Retry-After`.** A server that says when to come back is not asked before then, for at
//!   most [`RETRY_AFTER_CAP`]; a healthy push forgets it.
//!
//! Flushes and the final push at exit are not paced: the job waits for them.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use crate::error::PushError;

/// The interval grows to at most this many times the setting.
pub const MAX_STRETCH: u32 = 16;
/// A stretched interval never exceeds this (unless the setting does): the job's series must
/// keep moving (the keep-alive push and the `PushtimerJobStuck` alert assume a push at least
/// every few minutes).
pub const STRETCH_CAP: Duration = Duration::from_secs(5 * 60);
/// The longest `Retry-After` honoured; a longer one counts as this long.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(10 * 60);
/// A push slower than this fraction of the interval counts as a sign of strain.
const SLOW_FRACTION: u32 = 4;
/// Each healthy push multiplies the stretch by this, down to 1.
const RECOVERY: f64 = 2.0 / 3.0;
/// The first wait is at least this fraction of the interval.
pub const FIRST_WAIT_MIN: f64 = 0.1;
/// Later waits are the interval times a factor in `1 ± JITTER`.
const JITTER: f64 = 0.2;

/// How a push went, as far as pacing is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feedback {
    /// The server is struggling or away: 429, 5xx, no connection, no answer in time, or a
    /// slow answer.
    pub strained: bool,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// The stretch of the interval at which this push would have taken a quarter of it.
    pub stretch_needed: f64,
}

impl Feedback {
    /// The feedback of a push that ended with `result` after `took`, the server having asked
    /// for `retry_after`, for a thread pushing every `interval`.
    pub fn of(
        result: &Result<(), PushError>,
        took: Duration,
        retry_after: Option<Duration>,
        interval: Duration,
    ) -> Feedback {
        let failed_from_strain = match result {
            Ok(()) => false,
            Err(PushError::Status { code, .. }) => *code == 429 || *code >= 500,
            Err(error) => error.is_retryable(),
        };
        let quarter = (interval / SLOW_FRACTION).as_secs_f64();
        let stretch_needed = if quarter > 0.0 {
            took.as_secs_f64() / quarter
        } else {
            1.0
        };
        Feedback {
            strained: failed_from_strain || took > interval / SLOW_FRACTION,
            retry_after,
            stretch_needed,
        }
    }
}

/// The pacing of one lane's periodic rounds (see the module's documentation).
#[derive(Debug)]
pub struct Pacing {
    interval: Duration,
    /// The interval is `stretch` times the setting: 1 when healthy, at least doubling under
    /// strain, shrinking by a third per healthy push.
    stretch: f64,
    /// The server's `Retry-After`: no periodic round before this.
    not_before: Option<Instant>,
    /// Random per process: one job's jitter says nothing about another's.
    seed: RandomState,
    draws: u64,
}

impl Pacing {
    /// Pacing for a thread pushing every `interval`.
    pub fn new(interval: Duration) -> Pacing {
        Pacing {
            interval,
            stretch: 1.0,
            not_before: None,
            seed: RandomState::new(),
            draws: 0,
        }
    }

    /// The interval as it stands, stretched or not (without jitter).
    pub fn interval(&self) -> Duration {
        let stretched = scale(self.interval, self.stretch);
        stretched.min(STRETCH_CAP.max(self.interval))
    }

    /// How long to wait, from `now`, before the first periodic round: a random point between
    /// [`FIRST_WAIT_MIN`] of the interval and the interval, so that jobs started together push
    /// at different moments.
    pub fn first_wait(&mut self) -> Duration {
        let fraction = FIRST_WAIT_MIN + (1.0 - FIRST_WAIT_MIN) * self.random_fraction();
        scale(self.interval(), fraction)
    }

    /// How long to wait, from `now`, before the next periodic round: the interval ± 20 %, and
    /// not before the server's `Retry-After`.
    pub fn next_wait(&mut self, now: Instant) -> Duration {
        let factor = 1.0 - JITTER + 2.0 * JITTER * self.random_fraction();
        let wait = scale(self.interval(), factor);
        match self.not_before {
            Some(not_before) => wait.max(not_before.saturating_duration_since(now)),
            None => wait,
        }
    }

    /// Learns from a push (periodic, flush or final) that ended at `now`.
    pub fn record(&mut self, feedback: Feedback, now: Instant) {
        if feedback.strained {
            let needed = if feedback.stretch_needed.is_finite() {
                feedback.stretch_needed
            } else {
                f64::from(MAX_STRETCH)
            };
            self.stretch = (self.stretch * 2.0).max(needed).min(f64::from(MAX_STRETCH));
            if let Some(retry_after) = feedback.retry_after {
                self.not_before = now.checked_add(retry_after.min(RETRY_AFTER_CAP));
            }
        } else {
            self.stretch = (self.stretch * RECOVERY).max(1.0);
            self.not_before = None;
        }
    }

    /// The time the server asked the thread to wait until, if any.
    pub fn retry_after_until(&self) -> Option<Instant> {
        self.not_before
    }

    /// A number in [0, 1), different on every draw and in every process.
    fn random_fraction(&mut self) -> f64 {
        self.draws = self.draws.wrapping_add(1);
        let bits = self.seed.hash_one(self.draws) >> 11;
        // 53 random bits over 2^53: exactly representable, below 1.
        bits as f64 / (1u64 << 53) as f64
    }
}

/// `duration × factor` (factor ≥ 0), saturating instead of panicking as `mul_f64` would.
fn scale(duration: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(duration.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEALTHY: Feedback = Feedback {
        strained: false,
        retry_after: None,
        stretch_needed: 0.1,
    };
    const STRAINED: Feedback = Feedback {
        strained: true,
        retry_after: None,
        stretch_needed: 1.5,
    };

    #[test]
    fn waits_are_jittered_around_the_interval_and_the_first_spreads_over_it() {
        let interval = Duration::from_secs(15);
        let mut pacing = Pacing::new(interval);
        let now = Instant::now();
        let firsts: Vec<Duration> = (0..200).map(|_| pacing.first_wait()).collect();
        assert!(firsts.iter().all(|wait| *wait < interval));
        assert!(
            firsts
                .iter()
                .all(|wait| *wait >= interval.mul_f64(FIRST_WAIT_MIN))
        );
        assert!(firsts.iter().any(|wait| *wait < interval / 4));
        assert!(firsts.iter().any(|wait| *wait > interval * 3 / 4));
        let waits: Vec<Duration> = (0..200).map(|_| pacing.next_wait(now)).collect();
        let low = interval.mul_f64(1.0 - JITTER);
        let high = interval.mul_f64(1.0 + JITTER);
        assert!(waits.iter().all(|wait| *wait >= low && *wait <= high));
        assert!(waits.iter().any(|wait| *wait < interval));
        assert!(waits.iter().any(|wait| *wait > interval));
    }

    #[test]
    fn two_jobs_draw_different_waits() {
        let interval = Duration::from_secs(15);
        let mut a = Pacing::new(interval);
        let mut b = Pacing::new(interval);
        let a: Vec<Duration> = (0..8).map(|_| a.first_wait()).collect();
        let b: Vec<Duration> = (0..8).map(|_| b.first_wait()).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn strain_stretches_the_interval_within_bounds_and_health_brings_it_back() {
        let interval = Duration::from_secs(1);
        let mut pacing = Pacing::new(interval);
        let now = Instant::now();
        let mut seen = vec![pacing.interval()];
        for _ in 0..10 {
            pacing.record(STRAINED, now);
            seen.push(pacing.interval());
        }
        assert_eq!(seen[1], interval * 2);
        assert_eq!(pacing.interval(), interval * MAX_STRETCH);
        assert!(seen.windows(2).all(|pair| pair[0] <= pair[1]));
        // Back gently: a third less per healthy push, never below the setting.
        pacing.record(HEALTHY, now);
        assert_eq!(pacing.interval(), interval.mul_f64(16.0 * 2.0 / 3.0));
        let mut healthy = 1;
        while pacing.interval() > interval {
            pacing.record(HEALTHY, now);
            healthy += 1;
        }
        assert_eq!(healthy, 7);
        pacing.record(HEALTHY, now);
        assert_eq!(pacing.interval(), interval);
    }

    #[test]
    fn a_slow_push_stretches_the_interval_to_what_it_needs_at_once() {
        let interval = Duration::from_secs(1);
        let mut pacing = Pacing::new(interval);
        let took_five_seconds = Feedback::of(
            &Err(PushError::Timeout),
            Duration::from_secs(5),
            None,
            interval,
        );
        assert_eq!(took_five_seconds.stretch_needed, 20.0);
        pacing.record(took_five_seconds, Instant::now());
        assert_eq!(pacing.interval(), interval * MAX_STRETCH);
        let mut pacing = Pacing::new(Duration::from_secs(15));
        let took_ten = Feedback::of(&Ok(()), Duration::from_secs(10), None, pacing.interval);
        assert!(took_ten.strained);
        pacing.record(took_ten, Instant::now());
        assert_eq!(pacing.interval(), Duration::from_secs(40));
        let mut nan = STRAINED;
        nan.stretch_needed = f64::NAN;
        pacing.record(nan, Instant::now());
        assert_eq!(pacing.interval(), Duration::from_secs(15) * MAX_STRETCH);
    }

    #[test]
    fn a_stretched_interval_stays_below_the_cap_unless_the_setting_is_above_it() {
        let mut pacing = Pacing::new(Duration::from_secs(60));
        for _ in 0..10 {
            pacing.record(STRAINED, Instant::now());
        }
        assert_eq!(pacing.interval(), STRETCH_CAP);
        let long = Duration::from_secs(3600);
        let mut pacing = Pacing::new(long);
        pacing.record(STRAINED, Instant::now());
        assert_eq!(pacing.interval(), long);
        let mut pacing = Pacing::new(Duration::MAX);
        pacing.record(STRAINED, Instant::now());
        assert_eq!(pacing.interval(), Duration::MAX);
        let _ = pacing.next_wait(Instant::now());
    }

    #[test]
    fn retry_after_is_honoured_bounded_and_forgotten_after_a_healthy_push() {
        let mut pacing = Pacing::new(Duration::from_millis(100));
        let now = Instant::now();
        let asked = Feedback {
            retry_after: Some(Duration::from_secs(30)),
            ..STRAINED
        };
        pacing.record(asked, now);
        assert!(pacing.next_wait(now) >= Duration::from_secs(30));
        let greedy = Feedback {
            retry_after: Some(Duration::MAX),
            ..STRAINED
        };
        pacing.record(greedy, now);
        assert_eq!(pacing.next_wait(now), RETRY_AFTER_CAP);
        pacing.record(HEALTHY, now);
        assert!(pacing.next_wait(now) < Duration::from_secs(1));
    }

    #[test]
    fn feedback_reads_strain_from_statuses_failures_and_slowness() {
        let interval = Duration::from_secs(4);
        let fast = Duration::from_millis(10);
        let status = |code| {
            Err(PushError::Status {
                code,
                body: String::new(),
            })
        };
        let strained = |result: Result<(), PushError>, took| {
            Feedback::of(&result, took, None, interval).strained
        };
        assert!(!strained(Ok(()), fast));
        assert!(strained(Ok(()), Duration::from_secs(2)));
        assert!(strained(status(429), fast));
        assert!(strained(status(503), fast));
        assert!(!strained(status(400), fast));
        assert!(strained(Err(PushError::ConnectionRefused), fast));
        assert!(strained(Err(PushError::Timeout), fast));
        let tls = Err(PushError::Tls { reason: "x".into() });
        assert!(!strained(tls, fast));
    }

    /// The `Retry-After` a server asked for is kept as the instant it ends, honoured to the
    /// nanosecond up to ten minutes, cut to ten minutes beyond, and forgotten after a healthy
    /// push.
    #[test]
    fn retry_after_ends_when_the_server_said_up_to_ten_minutes() {
        let mut pacing = Pacing::new(Duration::from_millis(100));
        let now = Instant::now();
        assert_eq!(pacing.retry_after_until(), None);
        let asking = |seconds| Feedback {
            retry_after: Some(Duration::from_secs(seconds)),
            ..STRAINED
        };
        pacing.record(asking(540), now);
        assert_eq!(
            pacing.retry_after_until(),
            Some(now + Duration::from_secs(540))
        );
        assert_eq!(pacing.next_wait(now), Duration::from_secs(540));
        pacing.record(asking(660), now);
        assert_eq!(
            pacing.retry_after_until(),
            Some(now + Duration::from_secs(600))
        );
        assert_eq!(pacing.next_wait(now), Duration::from_secs(600));
        pacing.record(STRAINED, now);
        assert_eq!(
            pacing.retry_after_until(),
            Some(now + Duration::from_secs(600)),
            "strain without a Retry-After keeps the one asked for"
        );
        pacing.record(HEALTHY, now);
        assert_eq!(pacing.retry_after_until(), None);
    }

    /// "More than a quarter of the interval": a push that took exactly a quarter is healthy.
    #[test]
    fn a_push_taking_exactly_a_quarter_of_the_interval_is_not_slow() {
        let interval = Duration::from_secs(4);
        let quarter = Feedback::of(&Ok(()), Duration::from_secs(1), None, interval);
        assert!(!quarter.strained);
        assert_eq!(quarter.stretch_needed, 1.0);
        let longer = Feedback::of(
            &Ok(()),
            Duration::from_secs(1) + Duration::from_nanos(1),
            None,
            interval,
        );
        assert!(longer.strained);
    }

    /// A zero interval has no quarter to compare with: the stretch needed is 1, not the
    /// infinity or NaN of a division by zero.
    #[test]
    fn a_zero_interval_needs_no_stretch() {
        for took in [Duration::ZERO, Duration::from_millis(5)] {
            let feedback = Feedback::of(&Ok(()), took, None, Duration::ZERO);
            assert_eq!(feedback.stretch_needed, 1.0, "{took:?}");
        }
    }
}
