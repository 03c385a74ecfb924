//! Whole-run quantiles of a summary, to within 1% of the true value.
//!
//! Durations are counted in log-linear buckets: below 64 ns each nanosecond has a bucket of its
//! own (exact), and from there each power of two of nanoseconds is split into 64 equal buckets,
//! so a bucket is at most 1/64 of the values it holds wide, and its midpoint is within 1/128
//! (0.79%) of every one of them. A quantile is the midpoint of the bucket holding the
//! observation of its rank (the `ceil(q * n)`-th smallest), so the estimate is within 0.79% of
//! that observation, for every duration a summary records: from 0 to 2^64 ns (584 years; the
//! hand API refuses longer ones). Nothing is clamped.
//!
//! Counting is one relaxed `fetch_add` into the calling thread's shard. Memory follows what
//! was observed: a shard's table of powers of two (about 1.4 KiB) is allocated the first time a
//! thread of that shard observes, and each power of two's 64 counters (512 bytes) the first
//! time a duration in it is seen, so a function whose calls span a few powers of two costs a
//! few KiB per shard.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::reentry::first_use;

/// Buckets per power of two.
const SUB_BUCKETS: u64 = 64;
const SUB_BITS: u32 = 6;
/// The powers of two kept apart: the first "octave" holds 0–63 ns one nanosecond a bucket,
/// each next one a power of two from 2^6 ns up to 2^63 ns.
const OCTAVES: usize = (64 - SUB_BITS + 1) as usize;
/// All buckets.
pub(crate) const BUCKETS: usize = OCTAVES * SUB_BUCKETS as usize;

/// One power of two's counters.
type Octave = OnceLock<Box<[AtomicU64]>>;

/// One shard's counters: a table of powers of two, each allocated on first use.
#[derive(Debug, Default)]
pub(crate) struct ShardSketch(OnceLock<Box<[Octave]>>);

impl ShardSketch {
    /// Counts one observation of `nanos`.
    #[inline]
    pub(crate) fn record(&self, nanos: u64) {
        let index = bucket(nanos);
        let Some(octaves) = first_use(&self.0, || (0..OCTAVES).map(|_| Octave::new()).collect())
        else {
            return;
        };
        let octave = index / SUB_BUCKETS as usize;
        if let Some(counts) = octaves.get(octave)
            && let Some(counts) = first_use(counts, || {
                (0..SUB_BUCKETS).map(|_| AtomicU64::new(0)).collect()
            })
            && let Some(count) = counts.get(index % SUB_BUCKETS as usize)
        {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds this shard's counts to `into` (of length [`BUCKETS`]).
    pub(crate) fn add_to(&self, into: &mut [u64]) {
        let Some(octaves) = self.0.get() else {
            return;
        };
        for (octave, totals) in octaves.iter().zip(into.chunks_mut(SUB_BUCKETS as usize)) {
            if let Some(counts) = octave.get() {
                for (total, count) in totals.iter_mut().zip(counts.iter()) {
                    *total = total.wrapping_add(count.load(Ordering::Relaxed));
                }
            }
        }
    }
}

/// The bucket of `nanos`.
#[inline]
fn bucket(nanos: u64) -> usize {
    if nanos < SUB_BUCKETS {
        return nanos as usize;
    }
    // 6 ..= 63, since nanos >= 2^6.
    let exponent = 63 - nanos.leading_zeros();
    let sub = (nanos >> (exponent - SUB_BITS)) & (SUB_BUCKETS - 1);
    ((u64::from(exponent - SUB_BITS + 1) * SUB_BUCKETS) + sub) as usize
}

/// The midpoint of bucket `index`, in nanoseconds (the value itself below 64 ns).
fn midpoint(index: usize) -> f64 {
    let index = index as u64;
    let (octave, sub) = (index / SUB_BUCKETS, index % SUB_BUCKETS);
    if octave == 0 {
        return sub as f64;
    }
    // Octave k holds [2^(k+5), 2^(k+6)) in buckets 2^(k-1) wide.
    let width = (1u64 << (octave - 1)) as f64;
    (SUB_BUCKETS + sub) as f64 * width + width / 2.0
}

/// The estimates, in seconds, of the quantiles `qs` of the observations counted in `counts`;
/// `NaN` for each when there is none (as Prometheus clients do).
pub(crate) fn quantiles(counts: &[u64], qs: &[f64]) -> Vec<f64> {
    let total: u64 = counts.iter().fold(0u64, |all, n| all.wrapping_add(*n));
    qs.iter()
        .map(|&q| {
            if total == 0 {
                return f64::NAN;
            }
            // The rank of the quantile's observation: ceil(q * n), at least 1.
            let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
            let mut seen = 0u64;
            for (index, count) in counts.iter().enumerate() {
                seen = seen.wrapping_add(*count);
                if seen >= rank {
                    return midpoint(index) / 1e9;
                }
            }
            midpoint(counts.len().saturating_sub(1)) / 1e9
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The exact quantile the estimate stands for: the `ceil(q * n)`-th smallest.
    fn exact(sorted: &[u64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1] as f64 / 1e9
    }

    fn estimate(values: &[u64], qs: &[f64], threads: usize) -> Vec<f64> {
        let shards: Vec<ShardSketch> = (0..threads).map(|_| ShardSketch::default()).collect();
        std::thread::scope(|scope| {
            for (i, shard) in shards.iter().enumerate() {
                scope.spawn(move || {
                    for value in values.iter().skip(i).step_by(threads) {
                        shard.record(*value);
                    }
                });
            }
        });
        let mut counts = vec![0u64; BUCKETS];
        for shard in &shards {
            shard.add_to(&mut counts);
        }
        quantiles(&counts, qs)
    }

    fn assert_within_one_percent(values: &[u64], threads: usize) -> Result<(), TestCaseError> {
        let qs = [0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0];
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        for (q, estimate) in qs.iter().zip(estimate(values, &qs, threads)) {
            let truth = exact(&sorted, *q);
            prop_assert!(
                (estimate - truth).abs() <= truth * 0.01,
                "q={q}: estimate {estimate} vs exact {truth}"
            );
        }
        Ok(())
    }

    /// From 0 to a year, in nanoseconds.
    const RANGE: std::ops::RangeInclusive<u64> = 0..=31_536_000_000_000_000;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn uniform(values in prop::collection::vec(RANGE, 1..2_000), threads in 1usize..4) {
            assert_within_one_percent(&values, threads)?;
        }

        #[test]
        fn log_normal(normals in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 1..2_000), threads in 1usize..4) {
            // Box-Muller, around 50 ms with a wide spread, kept inside the range.
            let values: Vec<u64> = normals
                .iter()
                .map(|(u, v)| {
                    let z = (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
                    ((0.05f64).ln() + 2.0 * z).exp() * 1e9
                })
                .map(|nanos| (nanos as u64).clamp(*RANGE.start(), *RANGE.end()))
                .collect();
            assert_within_one_percent(&values, threads)?;
        }

        #[test]
        fn bimodal(fast in prop::collection::vec(1_000_000u64..2_000_000, 1..1_000), slow in prop::collection::vec(5_000_000_000u64..9_000_000_000, 1..100)) {
            let values: Vec<u64> = fast.into_iter().chain(slow).collect();
            assert_within_one_percent(&values, 2)?;
        }

        #[test]
        fn constant(value in RANGE, n in 1usize..500) {
            assert_within_one_percent(&vec![value; n], 1)?;
        }
    }

    #[test]
    fn no_observation_gives_nan_and_every_duration_has_a_bucket() {
        assert!(quantiles(&vec![0; BUCKETS], &[0.5])[0].is_nan());
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(63), 63);
        assert_eq!(bucket(64), 64);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        let mut values: Vec<u64> = (0..2_000)
            .chain((6..64).flat_map(|e| [(1u64 << e) - 1, 1u64 << e]))
            .collect();
        values.sort_unstable();
        for pair in values.windows(2) {
            assert!(bucket(pair[0]) <= bucket(pair[1]), "{pair:?}");
        }
    }

    /// The ends the issue found clamped: a 143 ns call was reported as 1.03 µs, and 1.8e10 s as
    /// 140,188 s.
    #[test]
    fn very_short_and_very_long_durations_are_estimated_within_one_percent() {
        for value in [
            0u64,
            1,
            63,
            64,
            143,
            999,
            18_000_000_000_000_000_000,
            u64::MAX - 1,
        ] {
            let got = estimate(&[value], &[0.5, 0.99], 1);
            let truth = value as f64 / 1e9;
            for estimate in got {
                assert!(
                    (estimate - truth).abs() <= truth * 0.01,
                    "{value} ns: {estimate} s vs {truth} s"
                );
            }
        }
    }

    /// A first observation inside pushtimer's own set-up (a timed allocator called while the
    /// sketch would allocate) is left out rather than set up the sketch; once the sketch is
    /// there, observations inside set-up count as usual.
    #[test]
    fn a_first_observation_during_set_up_is_left_out() {
        let total = |sketch: &ShardSketch| {
            let mut counts = vec![0u64; BUCKETS];
            sketch.add_to(&mut counts);
            counts.iter().sum::<u64>()
        };
        let sketch = ShardSketch::default();
        {
            let _setting_up = crate::store::reentry::SettingUp::begin();
            sketch.record(5);
        }
        assert!(sketch.0.get().is_none(), "nothing was allocated");
        assert_eq!(total(&sketch), 0);
        sketch.record(5);
        {
            let _setting_up = crate::store::reentry::SettingUp::begin();
            sketch.record(6);
            sketch.record(1_000_000);
        }
        assert_eq!(total(&sketch), 2, "a new power of two is not set up either");
        let mut counts = vec![0u64; BUCKETS];
        sketch.add_to(&mut counts);
        assert_eq!(quantiles(&counts, &[0.5, 1.0]), [5e-9, 6e-9]);
    }
}
