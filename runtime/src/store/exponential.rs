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

/// The finest schema kept (256 buckets per power of two), as Prometheus allows.
pub(crate) const SCHEMA_MAX: u32 = 8;

/// log2 of a second in nanoseconds.
const LOG2_SECOND_IN_NANOS: f64 = 29.897_352_853_986_263;

/// Where each nanosecond value falls, for one schema: computed once per schema.
#[derive(Debug)]
pub(crate) struct Layout {
    schema: u32,
    /// The bounds inside a power of two, as `m · 2^63` for `m` in [1, 2), ascending.
    bounds: Box<[u64]>,
    /// For each of the `2^(schema + 2)` slices of [1, 2) by the top bits of `m`, how many
    /// bounds lie below the slice's start. A slice is narrower than the gap between two
    /// bounds, so at most one more bound lies inside it.
    below: Box<[u16]>,
    /// The bucket index of position 0 (1 ns): positions count from there.
    first_index: i32,
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
        let bounds: Box<[u64]> = (0..per_octave)
            .map(|k| {
                let m = ((f64::from(k) + fraction) / f64::from(per_octave)).exp2();
                // m in [1, 2): m · 2^63 fits a u64.
                (m * 9_223_372_036_854_775_808.0) as u64
            })
            .collect();
        let slices = 1u64 << (schema + 2);
        let below = (0..slices)
            .map(|slice| {
                let start = (1u64 << 63) | (slice << (63 - (schema + 2)));
                bounds.iter().filter(|&&bound| bound < start).count() as u16
            })
            .collect();
        Layout {
            schema,
            bounds,
            below,
            first_index: -(whole as i32),
        }
    }

    /// Positions in all: every power of two of a `u64` of nanoseconds, and one past the last.
    fn positions(&self) -> usize {
        (64usize << self.schema) + 1
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
        let below = self.below.get(slice).map_or(0, |&n| usize::from(n));
        let past = self
            .bounds
            .get(below)
            .is_some_and(|&bound| normalized > bound);
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
        let chunks = (layout.positions() + per_chunk - 1) >> layout.schema;
        let Some(all) = first_use(&self.chunks, || {
            (0..chunks).map(|_| OnceLock::new()).collect()
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

/// `cell`'s value, made on first use as a stretch of set-up (see `sketch.rs`'s twin).
#[inline]
fn first_use<T>(cell: &OnceLock<T>, make: impl FnOnce() -> T) -> Option<&T> {
    match cell.get() {
        Some(value) => Some(value),
        None if crate::store::reentry::setting_up() => None,
        None => Some(crate::store::reentry::get_or_set_up(cell, make)),
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
