//! Exponential buckets of durations: the buckets of a native histogram, kept per shard.
//!
//! Bucket `i` of schema `s` holds the durations in `(2^((i-1)/2^s), 2^(i/2^s)]` seconds (the
//! native histogram's own buckets, see `model/family.rs`), so each bucket is `2^(1/2^s)` times
//! as wide as the last: at schema 6, 64 buckets per power of two, each 1.09 % wider than the
//! one below, and the geometric middle of a bucket within 0.54 % of every value in it.
//!
//! The durations arrive as whole nanoseconds. Finding the bucket takes no logarithm: a
//! duration of `2^e · m` ns (`m` in [1, 2)) lies in the power of two `e`, and within it past as
//! many of the power's `2^s` bucket bounds as `m` is above; those bounds are the same for every
//! power of two (1 s is not a power of two of nanoseconds, so they sit at a fixed offset), and
//! a table over the top bits of `m` gives the count up to one bound, which one comparison
//! settles. A count is then one relaxed `fetch_add` into the calling thread's shard, whose
//! powers of two are allocated on first use (as the quantile sketch's are, see `sketch.rs`).
//! A duration of 0 ns (below the clock's resolution) counts in the zero bucket.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::family::{self as model, DEFAULT_ZERO_THRESHOLD, NATIVE_SCHEMA_MIN};
use crate::store::reentry::first_use;

/// The finest schema kept (256 buckets per power of two), as Prometheus allows.
pub(crate) const SCHEMA_MAX: u32 = 8;

/// log2 of a second in nanoseconds.
const LOG2_SECOND_IN_NANOS: f64 = 29.897_352_853_986_263;

/// Where each nanosecond value falls, for one schema: computed once per schema.
#[derive(Debug)]
pub(crate) struct Layout {
    schema: u32,
    /// The `2^(schema + 2)` slices of [1, 2) by the top bits of `m`. A slice is narrower than
    /// the gap between two bounds, so at most one bound lies inside it.
    slices: Box<[Slice]>,
    /// The bucket index of position 0 (1 ns): positions count from there.
    first_index: i32,
    /// Chunks of `2^schema` positions a shard has: every power of two of a `u64` of
    /// nanoseconds, and one past the last.
    chunks: usize,
}

/// One slice of [1, 2): how many of the power of two's bounds lie below its start, and the
/// one bound inside it, if any (else `u64::MAX`, never passed), side by side, so that finding
/// a bucket takes one load that depends on the duration.
#[derive(Debug, Clone, Copy)]
struct Slice {
    /// As `m · 2^63` for `m` in [1, 2).
    bound: u64,
    below: u16,
}

impl Layout {
    /// The layout of `schema` (0 to [`SCHEMA_MAX`]), made on first use and kept.
    pub(crate) fn of(schema: u32) -> &'static Layout {
        static LAYOUTS: [OnceLock<Layout>; SCHEMA_MAX as usize + 1] =
            [const { OnceLock::new() }; SCHEMA_MAX as usize + 1];
        let schema = schema.min(SCHEMA_MAX);
        // In range: `schema` is at most SCHEMA_MAX.
        let cell = &LAYOUTS[schema as usize];
        crate::store::reentry::get_or_set_up(cell, || Layout::new(schema))
    }

    fn new(schema: u32) -> Layout {
        let per_octave = 1u32 << schema;
        // A second is 2^(LOG2 · 2^s / 2^s) ns: the bucket bounds in nanoseconds are offset by
        // the fraction of LOG2 · 2^s from the powers of two.
        let scaled = LOG2_SECOND_IN_NANOS * f64::from(per_octave);
        let whole = scaled.floor();
        let fraction = scaled - whole;
        // The bounds inside a power of two, as `m · 2^63`, ascending.
        let bounds: Vec<u64> = (0..per_octave)
            .map(|k| {
                let m = ((f64::from(k) + fraction) / f64::from(per_octave)).exp2();
                // m in [1, 2): m · 2^63 fits a u64.
                (m * 9_223_372_036_854_775_808.0) as u64
            })
            .collect();
        let width = 1u64 << (63 - (schema + 2));
        let slices = (0..1u64 << (schema + 2))
            .map(|slice| {
                let start = (1u64 << 63) | (slice * width);
                let below = bounds.iter().filter(|&&bound| bound < start).count();
                let bound = bounds
                    .get(below)
                    .copied()
                    .filter(|&bound| bound - start < width)
                    .unwrap_or(u64::MAX);
                Slice {
                    bound,
                    below: below as u16,
                }
            })
            .collect();
        Layout {
            schema,
            slices,
            first_index: -(whole as i32),
            // 64 powers of two and one position past them, in chunks of 2^schema.
            chunks: 65,
        }
    }

    pub(crate) fn schema(&self) -> u32 {
        self.schema
    }

    /// The position of a duration of `nanos` ns (at least 1): its bucket index less
    /// [`first_index`](Self::first_index).
    #[inline]
    fn position(&self, nanos: u64) -> usize {
        let zeros = nanos.leading_zeros();
        let power = 63 - zeros as usize;
        let normalized = nanos << zeros;
        // The top `schema + 2` bits after the leading one.
        let slice = ((normalized << 1) >> (64 - (self.schema + 2))) as usize;
        let (below, past) = self.slices.get(slice).map_or((0, false), |slice| {
            (usize::from(slice.below), normalized > slice.bound)
        });
        (power << self.schema) + below + usize::from(past)
    }

    /// The native bucket index of position `position`.
    fn index(&self, position: usize) -> i32 {
        // At most 64 · 256 + 1: fits.
        self.first_index + position as i32
    }
}

/// One power of two's counters.
type Chunk = OnceLock<Box<[AtomicU64]>>;

/// One shard's buckets: a counter per position, in chunks of one power of two each,
/// allocated on first use, and the zero bucket.
#[derive(Debug, Default)]
pub(crate) struct ShardBuckets {
    chunks: OnceLock<Box<[Chunk]>>,
    zero: AtomicU64,
}

impl ShardBuckets {
    /// Counts one duration of `nanos` ns.
    #[inline]
    pub(crate) fn record(&self, layout: &Layout, nanos: u64) {
        if nanos == 0 {
            self.zero.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let position = layout.position(nanos);
        let per_chunk = 1usize << layout.schema;
        let Some(all) = first_use(&self.chunks, || {
            (0..layout.chunks).map(|_| OnceLock::new()).collect()
        }) else {
            return;
        };
        if let Some(chunk) = all.get(position >> layout.schema)
            && let Some(counts) = first_use(chunk, || {
                (0..per_chunk).map(|_| AtomicU64::new(0)).collect()
            })
            && let Some(count) = counts.get(position & (per_chunk - 1))
        {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds this shard's counts to `into`: (bucket index, count) by position, and the zero
    /// count.
    pub(crate) fn add_to(&self, layout: &Layout, into: &mut Counts) {
        into.zero = into.zero.wrapping_add(self.zero.load(Ordering::Relaxed));
        let Some(all) = self.chunks.get() else {
            return;
        };
        for (number, chunk) in all.iter().enumerate() {
            let Some(counts) = chunk.get() else {
                continue;
            };
            for (slot, count) in counts.iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let index = layout.index((number << layout.schema) + slot);
                    *into.by_index.entry(index).or_default() += count;
                }
            }
        }
    }
}

/// Every shard's buckets added up: the count of each populated bucket by index, and the zero
/// bucket's.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Counts {
    pub(crate) by_index: std::collections::BTreeMap<i32, u64>,
    pub(crate) zero: u64,
}

impl Counts {
    /// Every observation counted: the zero bucket's and every other bucket's.
    pub(crate) fn total(&self) -> u64 {
        self.by_index
            .values()
            .fold(self.zero, |all, n| all.wrapping_add(*n))
    }

    /// The same counts at a schema `by` steps coarser: bucket `i` goes into `ceil(i / 2^by)`,
    /// which holds exactly the buckets it is made of (each coarser bucket is two finer ones).
    pub(crate) fn coarser(&self, by: u32) -> Counts {
        let mut by_index = std::collections::BTreeMap::new();
        for (&index, &count) in &self.by_index {
            let coarse = if by == 0 {
                index
            } else {
                ((index - 1) >> by) + 1
            };
            *by_index.entry(coarse).or_default() += count;
        }
        Counts {
            by_index,
            zero: self.zero,
        }
    }
}

/// The most buckets a native histogram is sent with, as Prometheus' scrape
/// `native_histogram_bucket_limit` and client_golang's `NativeHistogramMaxBucketNumber` are
/// commonly set: past it, the schema is lowered until the buckets fit.
pub(crate) const MAX_BUCKETS: usize = 160;

/// The classic bucket bounds a native histogram without classic buckets of its own also gets,
/// for consumers of the text format: the powers of 4 from 4^-7 s (61 µs) to 4^7 s (4.6 h).
/// Each is a bound of every native bucket of schema -1 and finer, so their counts are exact.
pub(crate) fn derived_bounds() -> impl Iterator<Item = (i32, f64)> {
    (-7..=7).map(|power: i32| (power * 2, 4f64.powi(power)))
}

impl Counts {
    /// The native part of the model for these counts, stored at `stored`, sent at `sent` (or
    /// coarser, until at most [`MAX_BUCKETS`] buckets are left); `None` if the buckets could
    /// not be put in spans (never, for the indexes a layout makes).
    pub(crate) fn to_native(&self, stored: u32, sent: i32) -> Option<model::Native> {
        let stored = i32::try_from(stored).ok()?;
        let mut schema = sent.min(stored);
        let mut counts = self.coarser(u32::try_from(stored - schema).ok()?);
        while counts.by_index.len() > MAX_BUCKETS && schema > NATIVE_SCHEMA_MIN {
            counts = counts.coarser(1);
            schema -= 1;
        }
        Some(model::Native {
            schema,
            zero_threshold: DEFAULT_ZERO_THRESHOLD,
            zero_count: counts.zero,
            positive: model::NativeBuckets::from_indexed(counts.by_index)?,
            negative: model::NativeBuckets::default(),
        })
    }

    /// Cumulative counts at the [`derived_bounds`], from counts stored at `stored` (0 or
    /// finer): a native bucket counts at a bound when its upper bound is at most that bound.
    pub(crate) fn classic_at_derived_bounds(&self, stored: u32) -> Vec<model::Bucket> {
        derived_bounds()
            .map(|(power_of_two, upper_bound)| {
                // Bucket i's upper bound 2^(i / 2^stored) is at most 2^power_of_two.
                let last = i64::from(power_of_two) << stored;
                let cumulative_count = self
                    .by_index
                    .range(..=i32::try_from(last).unwrap_or(i32::MAX))
                    .fold(self.zero, |all, (_, n)| all.wrapping_add(*n));
                model::Bucket {
                    upper_bound,
                    cumulative_count,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The bucket a duration belongs in, by the definition: the `i` with
    /// `2^((i-1)/2^s) < seconds <= 2^(i/2^s)`, computed with logarithms.
    fn by_definition(schema: u32, nanos: u64) -> f64 {
        (nanos as f64 / 1e9).log2() * f64::from(1u32 << schema)
    }

    fn index_of(layout: &Layout, nanos: u64) -> i32 {
        layout.index(layout.position(nanos))
    }

    /// Each duration is in the bucket the definition gives, for every schema, unless it lies
    /// so close to a bound (within 1e-9 of a bucket's width) that an f64 logarithm cannot
    /// tell the two sides apart.
    fn check(schema: u32, nanos: u64) -> Result<(), TestCaseError> {
        let layout = Layout::of(schema);
        let index = index_of(layout, nanos);
        let exact = by_definition(schema, nanos);
        let at_bound = (exact - exact.round()).abs() < 1e-9;
        if !at_bound {
            prop_assert_eq!(
                index,
                exact.ceil() as i32,
                "schema {} at {} ns",
                schema,
                nanos
            );
        } else {
            prop_assert!(
                (index - exact.round() as i32).abs() <= 1,
                "{} {}",
                schema,
                nanos
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn every_duration_is_in_its_bucket(nanos in 1u64.., schema in 0u32..=SCHEMA_MAX) {
            check(schema, nanos)?;
        }

        #[test]
        fn short_durations_too(nanos in 1u64..10_000_000_000, schema in 0u32..=SCHEMA_MAX) {
            check(schema, nanos)?;
        }
    }

    #[test]
    fn the_edges() {
        for schema in 0..=SCHEMA_MAX {
            for nanos in [1, 2, 3, 999_999_999, 1_000_000_000, 1_000_000_001, u64::MAX] {
                check(schema, nanos).unwrap();
            }
        }
        // A second is the top of bucket 0 at every schema.
        assert_eq!(index_of(Layout::of(6), 1_000_000_000), 0);
        assert_eq!(index_of(Layout::of(6), 1_000_000_001), 1);
        assert_eq!(index_of(Layout::of(0), 500_000_001), 0);
        assert_eq!(index_of(Layout::of(0), 500_000_000), -1);
    }

    /// Sent at the schema asked for; past the bucket limit, coarser until the buckets fit,
    /// the counts unchanged in sum.
    #[test]
    fn the_schema_is_lowered_until_the_buckets_fit() {
        let layout = Layout::of(6);
        let shard = ShardBuckets::default();
        // A duration every 1 % from 1 ms to 10 s: about 920 buckets of schema 6.
        let mut nanos = 1_000_000f64;
        let mut recorded = 0u64;
        while nanos < 1e10 {
            shard.record(layout, nanos as u64);
            recorded += 1;
            nanos *= 1.01;
        }
        shard.record(layout, 0);
        let mut counts = Counts::default();
        shard.add_to(layout, &mut counts);
        let native = counts.to_native(6, 6).expect("spans");
        // 13.3 powers of two: at most 160 buckets means at most 8 a power (schema 3), at
        // least 6 would be too many (schema 4 makes 16 a power: 213).
        assert_eq!(native.schema, 3);
        assert!(native.positive.counts.len() <= MAX_BUCKETS);
        let total: u64 = native.positive.counts.iter().sum();
        assert_eq!((total, native.zero_count), (recorded, 1));
        // Asked for schema -2: sent at -2, whatever the count.
        assert_eq!(counts.to_native(6, -2).expect("spans").schema, -2);
        // The classic buckets at powers of 4: exact.
        let classic = counts.classic_at_derived_bounds(6);
        let at = |seconds: f64| {
            classic
                .iter()
                .find(|bucket| bucket.upper_bound == seconds)
                .map(|bucket| bucket.cumulative_count)
        };
        let below = |seconds: f64| {
            let mut nanos = 1_000_000f64;
            let mut n = 1; // the zero bucket
            while nanos < 1e10 {
                if (nanos as u64) as f64 / 1e9 <= seconds {
                    n += 1;
                }
                nanos *= 1.01;
            }
            n
        };
        for seconds in [1.0 / 1024.0, 1.0 / 256.0, 0.25, 1.0, 4.0, 16.0] {
            assert_eq!(at(seconds), Some(below(seconds)), "le={seconds}");
        }
        assert_eq!(classic.len(), 15);
    }

    #[test]
    fn shards_count_and_add_up_with_the_zero_bucket() {
        let layout = Layout::of(3);
        let shards = [ShardBuckets::default(), ShardBuckets::default()];
        for (i, nanos) in [0, 0, 1_000_000_000, 1_000_000_000, 3_000_000_000, 7]
            .into_iter()
            .enumerate()
        {
            shards[i % 2].record(layout, nanos);
        }
        let mut counts = Counts::default();
        for shard in &shards {
            shard.add_to(layout, &mut counts);
        }
        assert_eq!(counts.zero, 2);
        let three = by_definition(3, 3_000_000_000).ceil() as i32;
        let seven = by_definition(3, 7).ceil() as i32;
        let expected: std::collections::BTreeMap<i32, u64> =
            [(seven, 1), (0, 2), (three, 1)].into_iter().collect();
        assert_eq!(counts.by_index, expected);
    }

    /// Downscaling merges pairs exactly: bucket i of schema s is inside bucket ceil(i/2) of
    /// schema s - 1, for indexes of both signs.
    #[test]
    fn coarser_buckets_hold_exactly_the_finer_ones() {
        let counts = Counts {
            by_index: [(-3, 1), (-2, 1), (-1, 1), (0, 1), (1, 1), (2, 1), (3, 1)]
                .into_iter()
                .collect(),
            zero: 4,
        };
        let once = counts.coarser(1);
        assert_eq!(
            once.by_index,
            [(-1, 2), (0, 2), (1, 2), (2, 1)].into_iter().collect()
        );
        assert_eq!(once.zero, 4);
        assert_eq!(
            counts.coarser(2).by_index,
            [(-0, 4), (1, 3)].into_iter().collect()
        );
        // The same as counting at the coarser schema to begin with.
        for nanos in [3u64, 700, 1_000_000_000, 1_500_000_000, 123_456_789_012] {
            let fine = index_of(Layout::of(6), nanos);
            let coarse = index_of(Layout::of(4), nanos);
            assert_eq!(((fine - 1) >> 2) + 1, coarse, "{nanos}");
        }
    }
}
