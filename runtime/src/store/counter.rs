//! The series behind a counter: a whole number that only goes up, kept per CPU like a
//! summary's count (see `shard.rs`), so that threads counting at once never write the same
//! cache line. Counting is one relaxed atomic add on the thread's shard; reading adds the
//! shards up, so nothing is lost or counted twice however threads and shards pair up.
//!
//! The count saturates: once a shard's count would pass 2^64 - 1 the counter reports 2^64 - 1
//! from then on, rather than wrapping to a small number (which Prometheus would take for a
//! reset). Rendered as an `f64`, exact below 2^53.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::store::changes;
use crate::store::refused::Refused;
use crate::store::shard::{shard_count, thread_shard};

/// The live state of one counter series; lives for the whole process.
#[derive(Debug)]
pub(crate) struct CounterCore {
    /// The full metric name, for messages.
    name: Box<str>,
    /// A power-of-two number of shards.
    shards: Box<[Shard]>,
    /// Some shard's count passed 2^64 - 1: the count is reported as saturated from then on.
    saturated: AtomicBool,
    /// Amounts refused (negative, or too large for a count): counted, never added.
    rejected: Refused,
}

/// One thread group's part of the count, alone on its cache lines (see `summary.rs`).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(AtomicU64);

impl CounterCore {
    /// A counter series, leaked (series are never removed from the global registry).
    pub(crate) fn leak(name: &str) -> &'static CounterCore {
        Box::leak(Box::new(CounterCore::new(name)))
    }

    fn new(name: &str) -> CounterCore {
        CounterCore {
            name: name.into(),
            shards: (0..shard_count()).map(|_| Shard::default()).collect(),
            saturated: AtomicBool::new(false),
            rejected: Refused::default(),
        }
    }

    /// The full metric name, e.g. `ns_rows_processed_total`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Adds `amount`.
    #[inline]
    pub(crate) fn add(&self, amount: u64) {
        let index = thread_shard() & self.shards.len().wrapping_sub(1);
        if let Some(shard) = self.shards.get(index) {
            let before = shard.0.fetch_add(amount, Ordering::Relaxed);
            if before.checked_add(amount).is_none() {
                self.saturated.store(true, Ordering::Relaxed);
            }
        }
        changes::mark(index);
    }

    /// Counts an amount that was refused; returns how many were refused so far.
    pub(crate) fn reject(&self) -> u64 {
        self.rejected.count()
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.get()
    }

    /// The count, all shards added up (saturated at 2^64 - 1).
    pub(crate) fn value(&self) -> u64 {
        if self.saturated.load(Ordering::Relaxed) {
            return u64::MAX;
        }
        self.shards.iter().fold(0u64, |all, shard| {
            all.saturating_add(shard.0.load(Ordering::Relaxed))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_many_threads_add_up_exactly() {
        let core = CounterCore::new("x_total");
        std::thread::scope(|scope| {
            for amount in 1..=8 {
                let core = &core;
                scope.spawn(move || {
                    for _ in 0..10_000 {
                        core.add(amount);
                    }
                });
            }
        });
        assert_eq!(core.value(), 360_000);
        assert_eq!(core.rejected(), 0);
    }

    #[test]
    fn the_total_saturates_and_refusals_are_counted_apart() {
        let core = CounterCore::new("x_total");
        core.add(u64::MAX);
        assert_eq!(core.value(), u64::MAX);
        assert_eq!(core.reject(), 1);
        assert_eq!(core.reject(), 2);
        assert_eq!(core.value(), u64::MAX, "a refusal adds nothing");
        core.add(5);
        assert_eq!(core.value(), u64::MAX, "saturated, not wrapped to 4");
        // Shards that each stay below 2^64 but add up beyond it saturate too.
        let core = CounterCore::new("y_total");
        core.add(u64::MAX - 1);
        std::thread::scope(|scope| {
            scope.spawn(|| core.add(3));
        });
        assert_eq!(core.value(), u64::MAX);
    }

    #[test]
    fn shards_are_a_power_of_two_on_their_own_cache_lines() {
        let core = CounterCore::new("x_total");
        assert!(core.shards.len().is_power_of_two());
        assert_eq!(std::mem::align_of::<Shard>(), 128);
        assert_eq!(core.name(), "x_total");
    }
}
