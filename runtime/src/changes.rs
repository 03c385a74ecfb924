//! Whether anything was recorded since the push thread last looked, without rendering.
//!
//! One flag per shard index (see `shard.rs`), each alone on its cache lines: an observation
//! sets the flag of its thread's shard after recording, which for a thread that owns its shard
//! is a store to a line already in its core's cache, and the push thread takes all flags once
//! per interval. An idle job's push thread therefore reads a handful of flags per interval,
//! however many series it has.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::shard::MAX_SHARDS;

#[repr(align(128))]
struct Flag(AtomicBool);

static CHANGED: [Flag; MAX_SHARDS] = [const { Flag(AtomicBool::new(false)) }; MAX_SHARDS];

/// Something was recorded by a thread of shard `shard`. The `Release` store publishes the
/// recording made before it to the push thread's `Acquire` in [`take`].
#[inline]
pub(crate) fn mark(shard: usize) {
    if let Some(flag) = CHANGED.get(shard) {
        flag.0.store(true, Ordering::Release);
    }
}

/// Something other than an observation changed what a push would carry (a new series, a
/// refused observation).
pub(crate) fn mark_other() {
    mark(0);
}

/// True when anything was marked since the last call; clears the marks.
pub(crate) fn take() -> bool {
    // Every flag is swapped, none skipped once one is found: each mark is consumed once.
    CHANGED.iter().fold(false, |any, flag| {
        flag.0.swap(false, Ordering::Acquire) | any
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_taken_once() {
        // Other tests in this process may mark too: only "after a take, a new mark shows".
        take();
        mark(3);
        assert!(take());
        mark(MAX_SHARDS + 5); // out of range: ignored, never a panic
        mark_other();
        assert!(take());
    }
}
