//! The series behind a gauge: one `f64` that is set, added to, or raised to a peak.
//!
//! Unlike a count, a gauge is one value, not a sum: a `set` on one thread must replace what
//! every other thread added, so it cannot be split per CPU. It is one atomic word (the value's
//! bits) alone on its cache lines; `set` is a store, `add` and `set_max` a compare-and-swap
//! loop, and `set_max` reads first, so a value that is no new peak writes nothing (the line
//! stays shared between the CPUs that read it).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::changes;
use crate::store::refused::Refused;

/// The live state of one gauge series; lives for the whole process.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct GaugeCore {
    /// The value's bits (`f64::to_bits`); always a finite value.
    bits: AtomicU64,
    /// The full metric name, for messages.
    name: Box<str>,
    /// Values refused (NaN, infinite, or an `add` whose result would be): counted, never set.
    rejected: Refused,
}

impl GaugeCore {
    /// A gauge series at 0, leaked (series are never removed from the global registry).
    pub(crate) fn leak(name: &str) -> &'static GaugeCore {
        Box::leak(Box::new(GaugeCore::new(name)))
    }

    fn new(name: &str) -> GaugeCore {
        GaugeCore {
            bits: AtomicU64::new(0f64.to_bits()),
            name: name.into(),
            rejected: Refused::default(),
        }
    }

    /// The full metric name, e.g. `ns_gpu_memory_used_bytes`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Sets the value; false (and nothing set) when it is not finite.
    pub(crate) fn set(&self, value: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        self.bits.store(value.to_bits(), Ordering::Relaxed);
        changes::mark_other();
        true
    }

    /// Adds `delta`; false (and nothing changed) when `delta` or the sum is not finite.
    pub(crate) fn add(&self, delta: f64) -> bool {
        self.update(|current| Some(current + delta).filter(|sum| sum.is_finite()))
    }

    /// Raises the value to `value` when it is larger; false when `value` is not finite.
    pub(crate) fn set_max(&self, value: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        let current = f64::from_bits(self.bits.load(Ordering::Relaxed));
        if value <= current {
            // No new peak: nothing written, nothing to push.
            return true;
        }
        // A racing larger value may land first: then there is nothing left to do, and that is
        // no refusal either.
        self.update(|current| (value > current).then_some(value));
        true
    }

    /// Replaces the value with `next(current)` in a compare-and-swap loop; `next` answers
    /// `None` to change nothing. True unless `next` refused a value for being non-finite
    /// (which only [`add`](Self::add) does).
    fn update(&self, next: impl Fn(f64) -> Option<f64>) -> bool {
        let result = self
            .bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                next(f64::from_bits(bits)).map(f64::to_bits)
            });
        match result {
            Ok(_) => {
                changes::mark_other();
                true
            }
            Err(_) => false,
        }
    }

    /// Counts a value that was refused; returns how many were refused so far.
    pub(crate) fn reject(&self) -> u64 {
        self.rejected.count()
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.get()
    }

    /// The value now.
    pub(crate) fn value(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_add_and_set_max() {
        let gauge = GaugeCore::new("g");
        assert_eq!(gauge.value(), 0.0);
        assert!(gauge.set(2.5));
        assert!(gauge.add(-4.0));
        assert_eq!(gauge.value(), -1.5);
        assert!(gauge.set_max(-3.0), "no new peak is no refusal");
        assert_eq!(gauge.value(), -1.5);
        assert!(gauge.set_max(7.0));
        assert_eq!(gauge.value(), 7.0);
        assert!(gauge.set(1.0), "set replaces a peak");
        assert_eq!(gauge.value(), 1.0);
    }

    #[test]
    fn values_that_are_not_finite_change_nothing() {
        let gauge = GaugeCore::new("g");
        assert!(gauge.set(f64::MAX));
        for refused in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(!gauge.set(refused), "{refused}");
            assert!(!gauge.add(refused), "{refused}");
            assert!(!gauge.set_max(refused), "{refused}");
        }
        assert!(!gauge.add(f64::MAX), "a sum beyond f64::MAX is infinite");
        assert_eq!(gauge.value(), f64::MAX);
        assert_eq!(
            gauge.rejected(),
            0,
            "the handle counts refusals, not the core"
        );
        assert_eq!(gauge.reject(), 1);
        assert_eq!(gauge.rejected(), 1);
    }

    #[test]
    fn adds_and_peaks_from_many_threads_are_exact() {
        let gauge = GaugeCore::new("g");
        let peak = GaugeCore::new("p");
        std::thread::scope(|scope| {
            for thread in 0..8u32 {
                let (gauge, peak) = (&gauge, &peak);
                scope.spawn(move || {
                    for i in 0..1_000u32 {
                        gauge.add(0.5);
                        peak.set_max(f64::from(i * 8 + thread));
                    }
                });
            }
        });
        assert_eq!(gauge.value(), 4_000.0);
        assert_eq!(peak.value(), 7_999.0);
    }
}
