//! What `count!` expands to. Not public API: only the generated code uses it.

use std::sync::OnceLock;

use crate::store::counter::CounterCore;
use crate::store::families::{Core, Shape};

/// One `count!` call site, as a `static` inside the block it expands to: its counter is
/// resolved on the first count and cached, so every later count is one atomic load plus the
/// add.
#[doc(hidden)]
#[derive(Debug)]
pub struct CounterSite {
    name: &'static str,
    help: &'static str,
    labels: &'static [(&'static str, &'static str)],
    core: OnceLock<&'static CounterCore>,
}

impl CounterSite {
    /// `name` already ends in `_total` and was validated by the macro, as were the labels;
    /// `help` is never empty (the macro fills in the default sentence).
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [(&'static str, &'static str)],
    ) -> Self {
        CounterSite {
            name,
            help,
            labels,
            core: OnceLock::new(),
        }
    }

    /// Counts `amount`, or the refusal of a negative amount or one of 2^64 and more.
    #[doc(hidden)]
    #[inline]
    pub fn count(&'static self, amount: Result<u64, i128>) {
        let core = match self.core.get() {
            Some(core) => core,
            None => match self.first_count() {
                Some(core) => core,
                None => return,
            },
        };
        match amount {
            Ok(amount) => core.add(amount),
            Err(refused) => self.refuse(core, refused),
        }
    }

    /// The counter, resolved on this first count (or a few racing first counts); `None` when
    /// this thread is inside pushtimer's own set-up (a timed allocator that counts), where the
    /// count is dropped rather than wait for a lock its own thread holds.
    #[cold]
    fn first_count(&'static self) -> Option<&'static CounterCore> {
        if crate::store::reentry::setting_up() {
            return None;
        }
        let setting_up = crate::store::reentry::SettingUp::begin();
        let runtime = crate::lifecycle::global::created();
        let (core, notes) =
            runtime.series(self.name, self.help, self.labels, &Shape::Counter, None);
        let core = match core {
            Core::Counter(core) => core,
            // The registry hands out a series of the shape asked for: never taken.
            _ => CounterCore::leak(self.name),
        };
        let core = *self.core.get_or_init(|| core);
        drop(setting_up);
        runtime.start();
        crate::diagnostics::emit(notes);
        Some(core)
    }

    #[cold]
    fn refuse(&self, core: &CounterCore, refused: i128) {
        if core.reject() == 1 {
            crate::diagnostics::warn(format!(
                "count!(\"{}\", {refused}) refused: a count only goes up, by 0 to 2^64 - 1; \
                 further refusals are only counted",
                self.name
            ));
        }
    }
}

/// What `count!` counts: any primitive integer. A negative amount, or one of 2^64 and more, is
/// refused (`Err`, with the amount, saturated to `i128`).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "count! counts whole numbers, and `{Self}` is not a primitive integer",
    label = "a count of rows, bytes, retries...: a u64, usize, i32 (not negative), ...",
    note = "for a fractional value use a `pushtimer::Gauge`"
)]
pub trait Amount {
    /// The amount as a count, or the refused amount.
    fn amount(self) -> Result<u64, i128>;
}

macro_rules! amounts {
    ($($int:ty),*) => {$(
        impl Amount for $int {
            #[inline(always)]
            fn amount(self) -> Result<u64, i128> {
                u64::try_from(self).map_err(|_| i128::try_from(self).unwrap_or(i128::MAX))
            }
        }
    )*};
}

amounts!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_counts_or_refusals() {
        assert_eq!(7u8.amount(), Ok(7));
        assert_eq!(u64::MAX.amount(), Ok(u64::MAX));
        assert_eq!(
            usize::MAX.amount(),
            u64::try_from(usize::MAX).map_err(|_| 0)
        );
        assert_eq!(0i32.amount(), Ok(0));
        assert_eq!((-3i64).amount(), Err(-3));
        assert_eq!(i128::MIN.amount(), Err(i128::MIN));
        assert_eq!(
            (u128::from(u64::MAX) + 1).amount(),
            Err(i128::from(u64::MAX) + 1)
        );
        assert_eq!(u128::MAX.amount(), Err(i128::MAX));
    }

    #[test]
    fn a_site_counts_into_one_counter_and_refusals_apart() {
        static SITE: CounterSite = CounterSite::new("site_rows_total", "h", &[("stage", "x")]);
        SITE.count(Ok(2));
        SITE.count(Ok(3));
        SITE.count(Err(-1));
        let core = SITE.core.get().expect("resolved");
        assert_eq!((core.value(), core.rejected()), (5, 1));
        let text = crate::render();
        assert!(text.contains("site_rows_total{stage=\"x\"} 5\n"), "{text}");
        assert!(
            text.contains("pushtimer_rejected_observations_total{metric=\"site_rows_total\"} 1\n"),
            "{text}"
        );
    }
}
