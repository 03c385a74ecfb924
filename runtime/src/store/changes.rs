//! Whether anything was recorded since the push thread last looked, without rendering.
//!
//! One flag per shard index (see `shard.rs`), each alone on its cache lines: an observation
//! sets the flag of its thread's shard after recording, which for a thread that owns its shard
//! is a store to a line already in its core's cache, and the push thread takes all flags once
//! per interval. An idle job's push thread therefore reads a handful of flags per interval,
//! however many series it has.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::shard::MAX_SHARDS;

#[repr(align(128))]
struct Flag(AtomicBool);

/// One flag per shard index.
struct Flags([Flag; MAX_SHARDS]);

impl Flags {
    const fn new() -> Flags {
        Flags([const { Flag(AtomicBool::new(false)) }; MAX_SHARDS])
    }

    #[inline]
    fn mark(&self, shard: usize) {
        if let Some(flag) = self.0.get(shard) {
            flag.0.store(true, Ordering::Release);
        }
    }

    fn take(&self) -> bool {
        // Every flag is swapped, none skipped once one is found: each mark is consumed once.
        self.0.iter().fold(false, |any, flag| {
            flag.0.swap(false, Ordering::Acquire) | any
        })
    }
}

static CHANGED: Flags = Flags::new();

/// Something was recorded by a thread of shard `shard`. The `Release` store publishes the
/// recording made before it to the push thread's `Acquire` in [`take`].
#[inline]
pub(crate) fn mark(shard: usize) {
    CHANGED.mark(shard);
}

/// Something other than an observation changed what a push would carry (a new series, a
/// refused observation).
pub(crate) fn mark_other() {
    mark(0);
}

/// True when anything was marked since the last call; clears the marks.
pub(crate) fn take() -> bool {
    CHANGED.take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_taken_once() {
        // Flags of its own: the process-wide ones are marked by other tests running alongside.
        let flags = Flags::new();
        assert!(!flags.take(), "nothing marked yet");
        flags.mark(3);
        flags.mark(5);
        assert!(flags.take());
        assert!(
            !flags.take(),
            "a mark is taken once, every shard's at the first take"
        );
        flags.mark(MAX_SHARDS + 5); // out of range: ignored, never a panic
        assert!(!flags.take());
        flags.mark(0);
        assert!(flags.take());
    }
}
