//! The count of values a series refused (negative, NaN, infinite, too large): one per series,
//! read by its handle (`rejected()`) and pushed as `pushtimer_rejected_observations_total`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::changes;

/// Values refused so far; never recorded into the series itself.
#[derive(Debug, Default)]
pub(crate) struct Refused(AtomicU64);

impl Refused {
    /// Counts one refusal (news for the push thread); returns how many so far.
    pub(crate) fn count(&self) -> u64 {
        let refused = self.0.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        changes::mark_other();
        refused
    }

    /// How many so far.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
