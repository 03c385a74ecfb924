//! What `#[timed]` expands to. Not public API: only the generated code uses it.

use std::sync::OnceLock;

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
    series: OnceLock<&'static SummaryCore>,
}

impl CallSite {
    /// `name` already ends in `_seconds` and was validated by the macro, as were the labels.
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [(&'static str, &'static str)],
    ) -> Self {
        CallSite {
            name,
            help,
            labels,
            series: OnceLock::new(),
        }
    }

    /// Starts timing one call.
    #[doc(hidden)]
    #[inline]
    pub fn enter(&'static self) -> Timer {
        let series = self.series.get_or_init(|| {
            crate::global::runtime()
                .registry
                .summary(self.name, self.help, self.labels)
        });
        Timer::start(series)
    }
}
