//! How hard a request is tried, and the jittered exponential backoff between its attempts,
//! bounded by the push deadline.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retries {
    /// Retry retryable failures with backoff as long as the deadline allows.
    WithinDeadline,
    /// One attempt and at most one quick retry: for a server that has not answered all run.
    Quick,
}

/// First pause between attempts.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
/// Longest pause between attempts.
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

pub(crate) struct Backoff {
    deadline: Instant,
    next: Duration,
    /// A per-process random seed, so jobs started together do not retry in lockstep.
    seed: RandomState,
    attempt: u64,
}

impl Backoff {
    pub(crate) fn new(deadline: Instant) -> Self {
        Backoff {
            deadline,
            next: FIRST_PAUSE,
            seed: RandomState::new(),
            attempt: 0,
        }
    }

    /// Sleeps before the next attempt, at least `minimum` (a server's `Retry-After`; a server
    /// that asks for less than the backoff, even 0, does not make the client hammer it); false
    /// (without sleeping) when the pause would end past the deadline, i.e. when there is no
    /// time for another attempt.
    pub(crate) fn wait_at_least(&mut self, minimum: Duration) -> bool {
        let pause = self.pause(minimum);
        let ends_in_time = Instant::now()
            .checked_add(pause)
            .is_some_and(|end| end < self.deadline);
        if !ends_in_time {
            return false;
        }
        std::thread::sleep(pause);
        self.advance();
        true
    }

    /// After an attempt: the nominal pause doubles, up to [`LONGEST_PAUSE`].
    fn advance(&mut self) {
        self.next = self.next.saturating_mul(2).min(LONGEST_PAUSE);
        self.attempt = self.attempt.saturating_add(1);
    }

    /// The next pause: the backoff's, or `minimum` when that is longer.
    fn pause(&self, minimum: Duration) -> Duration {
        self.jittered().max(minimum)
    }

    /// Between half and all of the nominal pause ("equal jitter").
    fn jittered(&self) -> Duration {
        let random = self.seed.hash_one(self.attempt);
        let half = self.next / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
        half + Duration::from_nanos(random % nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_stay_bounded_and_respect_the_deadline() {
        let mut backoff = Backoff::new(Instant::now() + Duration::from_secs(3600));
        let mut nominal = Vec::new();
        for _ in 0..8 {
            let pause = backoff.jittered();
            assert!(
                pause >= backoff.next / 2 && pause <= backoff.next,
                "{pause:?}"
            );
            nominal.push(backoff.next.as_millis());
            backoff.advance();
        }
        assert_eq!(nominal, [50, 100, 200, 400, 800, 1000, 1000, 1000]);
        let mut expired = Backoff::new(Instant::now());
        assert!(!expired.wait_at_least(Duration::ZERO));
        let mut soon = Backoff::new(Instant::now() + Duration::from_secs(3600));
        assert!(
            !soon.wait_at_least(Duration::from_secs(7200)),
            "past the deadline"
        );
        let zero = soon.pause(Duration::ZERO);
        assert!(
            zero >= FIRST_PAUSE / 2 && zero <= FIRST_PAUSE,
            "Retry-After: 0 still backs off"
        );
        let asked = Duration::from_millis(700);
        assert_eq!(soon.pause(asked), asked, "a longer Retry-After wins");
    }

    #[test]
    fn a_wait_that_fits_sleeps_at_least_the_minimum_and_grows_the_next_pause() {
        // Far beyond the pauses here (at most 100 ms), yet short enough that a broken jitter
        // asking for minutes does not fit: the test then fails at once instead of sleeping.
        let mut backoff = Backoff::new(Instant::now() + Duration::from_secs(10));
        let asked = Duration::from_millis(30);
        let started = Instant::now();
        assert!(backoff.wait_at_least(asked), "a pause that ends in time");
        assert!(started.elapsed() >= asked, "slept the Retry-After");
        assert_eq!(backoff.next, FIRST_PAUSE * 2, "the nominal pause doubled");
        assert_eq!(backoff.attempt, 1);
        assert!(backoff.wait_at_least(Duration::ZERO));
        assert_eq!(backoff.next, FIRST_PAUSE * 4);
    }
}
