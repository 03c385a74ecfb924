//! Which shard a thread records into: every series (see `summary.rs`) and the change flags
//! (see `changes.rs`) are split the same way, one part per CPU, so threads on different CPUs
//! never write the same cache line.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most shards a series gets: enough to keep the CPUs of a big machine apart, few enough
/// that 10,000 series stay in a few MiB.
pub(crate) const MAX_SHARDS: usize = 16;

/// Shards per series, once decided.
static COUNT: OnceLock<usize> = OnceLock::new();

/// Shards per series: the CPUs of this machine, rounded up to a power of two, at most
/// [`MAX_SHARDS`]; decided once.
pub(crate) fn shard_count() -> usize {
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .next_power_of_two()
            .min(MAX_SHARDS)
    })
}

/// Decides the shards per series as if the machine had `cpus` CPUs (rounded up to a power of
/// two, 1 to [`MAX_SHARDS`]), for measuring what a series costs on a machine of that size;
/// false when the count was already decided. Only the feature `internals` calls it.
#[cfg(feature = "internals")]
pub(crate) fn pretend_cpus(cpus: usize) -> bool {
    COUNT
        .set(cpus.max(1).next_power_of_two().min(MAX_SHARDS))
        .is_ok()
}

/// This thread's shard number, handed out round-robin on its first observation (a `const`
/// thread-local: reading it is one load, with no lazy-initialisation check).
#[inline]
pub(crate) fn thread_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD
        .try_with(|shard| {
            let mut index = shard.get();
            if index == usize::MAX {
                index = NEXT.fetch_add(1, Ordering::Relaxed);
                shard.set(index);
            }
            index
        })
        // During thread teardown the thread-local is gone: any shard is correct, just shared.
        .unwrap_or(0)
}
