//! The series behind a summary or a histogram: a call count and an exact sum of durations
//! and, for a histogram, an exact count per classic bucket, or per native (exponential)
//! bucket (see `exponential.rs`), or both.
//!
//! The sum is kept as integer nanoseconds, so recording is a `fetch_add` and the total is
//! exact however many calls are added; it is converted to seconds only when rendered. It
//! saturates: a sum that would pass 2^64 ns (about 584 years) stays at 2^64 - 1 ns from then
//! on, rather than wrapping to a small number; the count goes on counting.
//!
//! Each series is split into cache-line-sized shards, one per CPU (up to [`MAX_SHARDS`](crate::store::shard::MAX_SHARDS)), and
//! each thread records into "its" shard: threads on different CPUs never write the same cache
//! line, so a timed function called from many threads scales instead of bouncing one line
//! between cores (see `shard.rs`). Collecting adds the shards up; every update is an atomic add, so nothing is
//! lost or counted twice, however threads and shards pair up.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::store::changes;
use crate::store::exponential::{Counts, Layout, ShardBuckets};
use crate::store::refused::Refused;
use crate::store::shard::{shard_count, thread_shard};
use crate::store::sketch::{self, ShardSketch};

/// The live state of one series. Lives for the whole process (`&'static`), so a call site can
/// hold on to it without reference counting.
#[derive(Debug)]
pub(crate) struct SummaryCore {
    /// The full metric name, for messages.
    name: Box<str>,
    /// A power-of-two number of shards.
    shards: Box<[Shard]>,
    /// Some shard's sum passed 2^64 ns: the sum is reported as saturated from then on.
    saturated: AtomicBool,
    /// A histogram's bucket upper bounds, in nanoseconds, ascending; empty for a summary.
    bounds: Box<[u64]>,
    /// A summary's quantiles (each in (0, 1)); empty for none.
    quantiles: Box<[f64]>,
    /// A native histogram's bucket layout (its stored schema), and the schema it is sent at
    /// (-4 to 8: coarser than stored for a negative one); `None` for no native buckets.
    native: Option<(&'static Layout, i32)>,
    /// Hand observations refused (negative, NaN, infinite, too large). The one count of them:
    /// `Summary::rejected` and `pushtimer_rejected_observations_total` both read it.
    rejected: Refused,
}

/// One thread group's part of a series, alone on its cache lines (128 bytes: the adjacent-line
/// prefetcher of x86 pulls pairs of 64-byte lines).
#[derive(Debug)]
#[repr(align(128))]
struct Shard {
    /// Observations of a summary (a histogram counts in its buckets only: classic ones when
    /// it has any, else native ones).
    count: AtomicU64,
    sum_nanos: AtomicU64,
    /// A histogram's observations per bucket (not cumulative), the last one above every bound.
    buckets: Box<[AtomicU64]>,
    /// A summary's quantile sketch, allocated when a thread of this shard first observes.
    sketch: ShardSketch,
    /// A native histogram's buckets, allocated when a thread of this shard first observes.
    native: ShardBuckets,
}

impl Shard {
    fn new(buckets: usize) -> Shard {
        Shard {
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
            buckets: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            sketch: ShardSketch::default(),
            native: ShardBuckets::default(),
        }
    }
}

impl SummaryCore {
    /// A series, leaked (series are never removed from the global registry): a histogram's
    /// with these bucket upper bounds (seconds, ascending, checked by the caller), a summary's
    /// without, with these quantiles (checked by the caller; ignored for a histogram).
    pub(crate) fn leak(name: &str, bounds: &[f64], quantiles: &[f64]) -> &'static SummaryCore {
        Box::leak(Box::new(SummaryCore::new(name, bounds, quantiles)))
    }

    /// A histogram series with native buckets of `schema` (-4 to 8, checked by the caller),
    /// and classic ones with these bounds when there are any, leaked.
    pub(crate) fn leak_native(name: &str, bounds: &[f64], schema: i32) -> &'static SummaryCore {
        let mut core = SummaryCore::new(name, bounds, &[]);
        let stored = u32::try_from(schema).unwrap_or(0);
        core.native = Some((Layout::of(stored), schema));
        Box::leak(Box::new(core))
    }

    fn new(name: &str, bounds: &[f64], quantiles: &[f64]) -> SummaryCore {
        let bounds: Box<[u64]> = bounds
            .iter()
            .map(|&seconds| seconds_to_nanos(seconds))
            .collect();
        let buckets = if bounds.is_empty() {
            0
        } else {
            bounds.len() + 1
        };
        SummaryCore {
            name: name.into(),
            shards: (0..shard_count()).map(|_| Shard::new(buckets)).collect(),
            saturated: AtomicBool::new(false),
            quantiles: if bounds.is_empty() {
                quantiles.into()
            } else {
                Box::default()
            },
            bounds,
            native: None,
            rejected: Refused::default(),
        }
    }

    /// The full metric name, e.g. `ns_train_seconds`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Records one observation; a `Duration` beyond 2^64 ns counts as 2^64 - 1 ns.
    #[inline]
    pub(crate) fn observe(&self, duration: Duration) {
        self.observe_nanos(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Records one observation of `nanos` nanoseconds.
    #[inline]
    pub(crate) fn observe_nanos(&self, nanos: u64) {
        let index = thread_shard() & self.shards.len().wrapping_sub(1);
        if let Some(shard) = self.shards.get(index) {
            let before = shard.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
            if before.checked_add(nanos).is_none() {
                self.saturated.store(true, Ordering::Relaxed);
            }
            if let Some((layout, _)) = self.native {
                shard.native.record(layout, nanos);
            }
            if self.bounds.is_empty() {
                if self.native.is_none() {
                    shard.count.fetch_add(1, Ordering::Relaxed);
                    if !self.quantiles.is_empty() {
                        shard.sketch.record(nanos);
                    }
                }
            } else {
                // A histogram counts in its buckets only (the count is their sum): the first
                // bucket whose upper bound is at least the observation (`le`), i.e. the number
                // of bounds below it, counted without branches (the compiler vectorises it).
                let bucket: usize = self
                    .bounds
                    .iter()
                    .map(|&bound| usize::from(bound < nanos))
                    .sum();
                if let Some(count) = shard.buckets.get(bucket) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        changes::mark(index);
    }

    /// Counts an observation that was refused; returns how many were refused so far.
    pub(crate) fn reject(&self) -> u64 {
        self.rejected.count()
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.get()
    }

    /// A histogram's cumulative count per bucket bound (seconds), all shards added up, and
    /// the count of every observation (`+Inf`, the sum of the buckets, so that the two agree
    /// even while threads observe); `None` for a summary.
    pub(crate) fn buckets(&self) -> Option<(Vec<(f64, u64)>, u64)> {
        if self.bounds.is_empty() {
            return None;
        }
        let mut per_bucket = vec![0u64; self.bounds.len() + 1];
        for shard in self.shards.iter() {
            for (total, count) in per_bucket.iter_mut().zip(shard.buckets.iter()) {
                *total = total.wrapping_add(count.load(Ordering::Relaxed));
            }
        }
        let mut cumulative = 0u64;
        let mut buckets = Vec::with_capacity(self.bounds.len());
        for (bound, count) in self.bounds.iter().zip(&per_bucket) {
            cumulative = cumulative.wrapping_add(*count);
            buckets.push((nanos_to_seconds(*bound), cumulative));
        }
        let all = cumulative.wrapping_add(per_bucket.last().copied().unwrap_or(0));
        Some((buckets, all))
    }

    /// A summary's quantiles and their estimates in seconds, all shards added up; `None`
    /// without quantiles.
    pub(crate) fn quantile_values(&self) -> Option<Vec<(f64, f64)>> {
        if self.quantiles.is_empty() {
            return None;
        }
        let mut counts = vec![0u64; sketch::BUCKETS];
        for shard in self.shards.iter() {
            shard.sketch.add_to(&mut counts);
        }
        let estimates = sketch::quantiles(&counts, &self.quantiles);
        Some(self.quantiles.iter().copied().zip(estimates).collect())
    }

    /// A native histogram's bucket counts, all shards added up, at the schema they are stored
    /// at (with that schema, and the one to send them at); `None` without native buckets.
    pub(crate) fn native_counts(&self) -> Option<(Counts, u32, i32)> {
        let (layout, sent) = self.native?;
        let mut counts = Counts::default();
        for shard in self.shards.iter() {
            shard.native.add_to(layout, &mut counts);
        }
        Some((counts, layout.schema(), sent))
    }

    /// `(count, sum in seconds)`, all shards added up.
    pub(crate) fn snapshot(&self) -> (u64, f64) {
        if self.bounds.is_empty()
            && let Some((counts, _, _)) = self.native_counts()
        {
            return (counts.total(), self.sum_seconds());
        }
        let count = self.shards.iter().fold(0u64, |all, shard| {
            let count = if self.bounds.is_empty() {
                shard.count.load(Ordering::Relaxed)
            } else {
                shard.buckets.iter().fold(0u64, |all, bucket| {
                    all.wrapping_add(bucket.load(Ordering::Relaxed))
                })
            };
            all.wrapping_add(count)
        });
        (count, self.sum_seconds())
    }

    /// The sum of every observation, in seconds, all shards added up (saturated at 2^64 ns).
    pub(crate) fn sum_seconds(&self) -> f64 {
        let sum_nanos = if self.saturated.load(Ordering::Relaxed) {
            u64::MAX
        } else {
            self.shards.iter().fold(0u64, |all, shard| {
                all.saturating_add(shard.sum_nanos.load(Ordering::Relaxed))
            })
        };
        nanos_to_seconds(sum_nanos)
    }
}

/// Whole nanoseconds from (finite, non-negative) seconds, rounded: 0.1 s is 100,000,000 ns.
fn seconds_to_nanos(seconds: f64) -> u64 {
    Duration::try_from_secs_f64((seconds * 1e9).round() / 1e9).map_or(u64::MAX, |duration| {
        u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
    })
}

/// Seconds from nanoseconds. Whole seconds and the fraction are converted apart, so sums
/// beyond 2^53 ns (104 days) keep nanosecond-level precision as far as an f64 allows.
fn nanos_to_seconds(nanos: u64) -> f64 {
    let whole = nanos / 1_000_000_000;
    let fraction = nanos % 1_000_000_000;
    whole as f64 + fraction as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_is_exact_in_nanoseconds() {
        let core = SummaryCore::new("x", &[], &[]);
        for _ in 0..1000 {
            core.observe(Duration::from_nanos(1_000_001));
        }
        let (count, sum) = core.snapshot();
        assert_eq!(count, 1000);
        assert_eq!(sum, 1.000001);
    }

    #[test]
    fn the_sum_saturates_instead_of_wrapping() {
        let most = nanos_to_seconds(u64::MAX);
        let core = SummaryCore::new("x", &[], &[]);
        core.observe(Duration::MAX);
        core.observe(Duration::from_secs(1));
        assert_eq!(core.snapshot(), (2, most));
        let core = SummaryCore::new("x", &[], &[]);
        core.observe(Duration::from_secs(10_000_000_000));
        assert_eq!(core.snapshot(), (1, 1e10));
        core.observe(Duration::from_secs(10_000_000_000));
        assert_eq!(core.snapshot(), (2, most));
        core.observe(Duration::from_secs(1));
        assert_eq!(core.snapshot(), (3, most), "saturated for good");
    }

    #[test]
    fn histogram_buckets_are_exact_and_cumulative() {
        let core = SummaryCore::new("x", &[0.001, 0.1, 1.0], &[]);
        for millis in [0, 1, 2, 100, 101, 1000, 5000] {
            core.observe(Duration::from_millis(millis));
        }
        let (buckets, all) = core.buckets().unwrap();
        assert_eq!(buckets, vec![(0.001, 2), (0.1, 4), (1.0, 6)]);
        assert_eq!(all, 7);
        assert_eq!(core.snapshot().0, 7);
        assert_eq!(SummaryCore::new("y", &[], &[]).buckets(), None);
    }

    #[test]
    fn shards_are_a_power_of_two_and_on_their_own_cache_lines() {
        let core = SummaryCore::new("x", &[], &[]);
        assert!(core.shards.len().is_power_of_two());
        assert!(core.shards.len() <= crate::store::shard::MAX_SHARDS);
        assert_eq!(std::mem::align_of::<Shard>(), 128);
    }

    #[test]
    fn observations_from_many_threads_add_up_exactly() {
        let core = SummaryCore::new("x", &[], &[]);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..10_000 {
                        core.observe(Duration::from_nanos(3));
                    }
                });
            }
        });
        assert_eq!(core.snapshot(), (80_000, 0.00024));
    }

    /// Each observation lands in the first bucket whose bound is at least it (`le`): one
    /// observation per series, so that no two misplaced ones can make up for each other.
    #[test]
    fn an_observation_lands_in_the_first_bucket_at_least_as_large() {
        let bounds = [0.001, 0.1, 1.0];
        for (nanos, cumulative) in [
            (0, [1, 1, 1]),
            (999_999, [1, 1, 1]),
            (1_000_000, [1, 1, 1]),
            (1_000_001, [0, 1, 1]),
            (100_000_000, [0, 1, 1]),
            (100_000_001, [0, 0, 1]),
            (1_000_000_000, [0, 0, 1]),
            (1_000_000_001, [0, 0, 0]),
            (u64::MAX, [0, 0, 0]),
        ] {
            let core = SummaryCore::new("x", &bounds, &[]);
            core.observe_nanos(nanos);
            let expected: Vec<(f64, u64)> = bounds.iter().copied().zip(cumulative).collect();
            assert_eq!(core.buckets(), Some((expected, 1)), "{nanos} ns");
            assert_eq!(core.snapshot().0, 1, "{nanos} ns");
        }
    }

    #[test]
    fn rejected_observations_are_counted_apart() {
        let core = SummaryCore::new("x", &[], &[0.5]);
        assert_eq!(core.rejected(), 0);
        assert_eq!(core.reject(), 1);
        assert_eq!(core.reject(), 2);
        assert_eq!(core.rejected(), 2);
        assert_eq!(
            core.snapshot(),
            (0, 0.0),
            "a refused observation is not observed"
        );
    }

    /// Below 64 ns every nanosecond has a bucket of its own, so the estimates are exact: the
    /// `ceil(q * n)`-th smallest of 1..=10 ns.
    #[test]
    fn quantile_values_are_the_observations_of_their_rank() {
        let core = SummaryCore::new("x", &[], &[0.1, 0.5, 0.9, 0.99]);
        for nanos in [7, 3, 10, 1, 9, 5, 2, 8, 4, 6] {
            core.observe_nanos(nanos);
        }
        assert_eq!(
            core.quantile_values(),
            Some(vec![(0.1, 1e-9), (0.5, 5e-9), (0.9, 9e-9), (0.99, 1e-8)])
        );
        assert_eq!(core.snapshot(), (10, 55e-9));
    }

    /// Observations made on different threads (and so, with several CPUs, into different
    /// shards) count together.
    #[test]
    fn quantile_values_add_up_every_shard() {
        let core = SummaryCore::new("x", &[], &[0.25, 0.75]);
        std::thread::scope(|scope| {
            for nanos in [10, 20, 30, 40] {
                let core = &core;
                scope.spawn(move || {
                    for _ in 0..100 {
                        core.observe_nanos(nanos);
                    }
                });
            }
        });
        assert_eq!(
            core.quantile_values(),
            Some(vec![(0.25, 1e-8), (0.75, 3e-8)])
        );
    }

    #[test]
    fn quantile_values_are_nan_before_any_observation_and_none_without_quantiles() {
        let values = SummaryCore::new("x", &[], &[0.5, 0.9])
            .quantile_values()
            .unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!((values[0].0, values[1].0), (0.5, 0.9));
        assert!(values.iter().all(|(_, estimate)| estimate.is_nan()));
        let plain = SummaryCore::new("x", &[], &[]);
        plain.observe_nanos(5);
        assert_eq!(plain.quantile_values(), None);
        let histogram = SummaryCore::new("x", &[0.1], &[0.5]);
        histogram.observe_nanos(5);
        assert_eq!(
            histogram.quantile_values(),
            None,
            "a histogram has no quantiles"
        );
    }
}
