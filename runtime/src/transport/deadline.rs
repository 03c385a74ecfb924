//! Instants in the future that cannot overflow.
//!
//! `Instant + Duration` panics when the sum does not fit, and durations reach here from users
//! (`Duration::MAX` means "no timeout" to some). Every deadline is made here.

use std::time::{Duration, Instant};

/// `Instant::now() + after`, or as far out as fits (a deadline that far away never comes).
pub(crate) fn after(after: Duration) -> Instant {
    let now = Instant::now();
    let mut step = after;
    loop {
        if let Some(deadline) = now.checked_add(step) {
            return deadline;
        }
        step /= 2;
    }
}

/// `instant - margin`, or `instant` itself when that does not fit.
pub(crate) fn before(instant: Instant, margin: Duration) -> Instant {
    instant.checked_sub(margin).unwrap_or(instant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_panics() {
        assert!(after(Duration::MAX) > Instant::now());
        assert!(after(Duration::ZERO) <= Instant::now());
        let now = Instant::now();
        assert!(before(now, Duration::MAX) <= now);
    }
}
