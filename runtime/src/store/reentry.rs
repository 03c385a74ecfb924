//! pushtimer calling itself on one thread. A timed function can be called by pushtimer's own
//! set-up: a timed `GlobalAlloc::alloc` is called by every allocation pushtimer makes while it
//! creates its runtime, registers a series or renders the registry. Such a call would wait for
//! a lock or a `OnceLock` its own thread holds, forever. So every such stretch is marked
//! [`SettingUp`], and a timed call that would need a set-up of its own (its first call, or a
//! quantile sketch's first allocation) inside one is not timed: one call less counted, never a
//! hang. A call whose series is ready is timed as usual: its hot path takes no lock.

use std::cell::Cell;
use std::sync::OnceLock;

thread_local! {
    /// This thread is inside a stretch of pushtimer's set-up (a `const` thread-local without
    /// a destructor: usable from an allocator, and during thread teardown).
    static SETTING_UP: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside pushtimer's set-up.
pub(crate) fn setting_up() -> bool {
    SETTING_UP.try_with(Cell::get).unwrap_or(true)
}

/// Marks this thread as inside pushtimer's set-up until dropped (nested stretches are fine).
#[must_use = "the stretch ends when this is dropped"]
pub(crate) struct SettingUp {
    was: bool,
}

impl SettingUp {
    pub(crate) fn begin() -> SettingUp {
        let was = SETTING_UP
            .try_with(|flag| flag.replace(true))
            .unwrap_or(true);
        SettingUp { was }
    }
}

impl Drop for SettingUp {
    fn drop(&mut self) {
        let _ = SETTING_UP.try_with(|flag| flag.set(self.was));
    }
}

/// `cell`'s value, made by `make` on first use as a stretch of set-up (making it allocates, and
/// an allocator may be timed). The fast path is the cell's own `get`.
#[inline]
pub(crate) fn get_or_set_up<T>(cell: &OnceLock<T>, make: impl FnOnce() -> T) -> &T {
    match cell.get() {
        Some(value) => value,
        None => set_up(cell, make),
    }
}

/// `cell`'s value, made by `make` on first use as [`get_or_set_up`] makes it; `None` when this
/// thread is inside pushtimer's set-up already (a timed allocator called by it), whose
/// observation is then left out rather than wait for itself.
#[inline]
pub(crate) fn first_use<T>(cell: &OnceLock<T>, make: impl FnOnce() -> T) -> Option<&T> {
    match cell.get() {
        Some(value) => Some(value),
        None if setting_up() => None,
        None => Some(set_up(cell, make)),
    }
}

#[cold]
fn set_up<T>(cell: &OnceLock<T>, make: impl FnOnce() -> T) -> &T {
    let _setting_up = SettingUp::begin();
    cell.get_or_init(make)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_nest_and_end() {
        assert!(!setting_up());
        {
            let _outer = SettingUp::begin();
            {
                let _inner = SettingUp::begin();
                assert!(setting_up());
            }
            assert!(setting_up(), "the outer stretch is still on");
        }
        assert!(!setting_up());
    }
}
