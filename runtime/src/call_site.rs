//! What `#[timed]` expands to. Not public API: only the generated code uses it.

use std::sync::OnceLock;

use crate::registry::Origin;
use crate::summary::SummaryCore;
use crate::timer::Timer;

/// One `#[timed]` function, as a `static` inside it: the series is resolved on the first call
/// and cached, so every later call is one atomic load plus the timer.
#[doc(hidden)]
#[derive(Debug)]
pub struct CallSite {
    name: &'static str,
    help: &'static str,
    labels: &'static [(&'static str, &'static str)],
    origin: Origin,
    series: OnceLock<&'static SummaryCore>,
}

impl CallSite {
    /// `name` already ends in `_seconds` and was validated by the macro, as were the labels;
    /// `help` is never empty (the macro fills in the default sentence).
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [(&'static str, &'static str)],
        origin: Origin,
    ) -> Self {
        CallSite {
            name,
            help,
            labels,
            origin,
            series: OnceLock::new(),
        }
    }

    /// Starts timing one call.
    #[doc(hidden)]
    #[inline]
    pub fn enter(&'static self) -> Timer {
        match self.series.get() {
            Some(series) => Timer::start(series),
            None => Timer::start(self.resolve()),
        }
    }

    /// The first call (or a few racing first calls): finds the series, caches it, and only
    /// then reports what the registry had to say. Nothing is logged while the `OnceLock` is
    /// being set: a logger that itself calls this function must find it resolved, not
    /// re-enter its initialisation.
    #[cold]
    fn resolve(&'static self) -> &'static SummaryCore {
        let runtime = crate::global::runtime();
        let (series, notes) = runtime.summary(
            self.name,
            self.help,
            self.labels,
            Some((self as *const CallSite as usize, self.origin)),
        );
        let series = *self.series.get_or_init(|| series);
        crate::diagnostics::emit(notes);
        series
    }
}
