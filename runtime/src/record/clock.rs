//! The clock that times calls.
//!
//! Two clock reads are most of what timing a call costs, and `std::time::Instant::now()` takes
//! ~23 ns on a typical cloud VM (a vDSO call with a seqlock and a conversion). Where the CPU has
//! an invariant time-stamp counter, [`quanta`] reads it directly (a few ns) and converts the
//! difference of two reads to nanoseconds with a factor calibrated once against the OS's
//! monotonic clock (a fraction of a millisecond, on the first timed call, before its clock
//! starts). Without an invariant TSC (or on other CPUs) it uses the OS's monotonic clock.
//!
//! Durations are never negative: a later read that is not above the earlier one (different
//! cores' counters a hair apart) counts as zero.

use std::sync::OnceLock;

use quanta::Clock;

/// The process's clock, calibrated on first use.
#[inline]
pub(crate) fn clock() -> &'static Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    // Calibrating allocates: a stretch of set-up (see `reentry.rs`).
    crate::store::reentry::get_or_set_up(&CLOCK, Clock::new)
}

/// A reading of [`clock`], in its own unit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading(u64);

impl Reading {
    #[inline]
    pub(crate) fn now(clock: &Clock) -> Reading {
        Reading(clock.raw())
    }

    /// Nanoseconds from this reading until now; zero if the clock did not advance.
    #[inline]
    pub(crate) fn elapsed_nanos(self, clock: &Clock) -> u64 {
        clock.delta_as_nanos(self.0, clock.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn agrees_with_the_os_monotonic_clock() {
        let clock = clock();
        let os = Instant::now();
        let start = Reading::now(clock);
        std::thread::sleep(Duration::from_millis(50));
        let ours = start.elapsed_nanos(clock);
        let theirs = u64::try_from(os.elapsed().as_nanos()).unwrap();
        // Both spans contain the 50 ms sleep; ours is nested inside theirs. Ours is the TSC
        // scaled by a calibrated rate, which may be off by some parts per million (seen:
        // 49,998,952 ns for the 50 ms sleep), so each side gets 0.1 % of slack.
        let slack = theirs / 1000;
        assert!(ours + slack >= 50_000_000, "{ours}");
        assert!(ours <= theirs + slack, "{ours} vs {theirs}");
    }

    #[test]
    fn never_goes_backwards() {
        let clock = clock();
        let reading = Reading::now(clock);
        let mut last = 0;
        for _ in 0..10_000 {
            let elapsed = reading.elapsed_nanos(clock);
            assert!(elapsed >= last);
            last = elapsed;
        }
    }
}
