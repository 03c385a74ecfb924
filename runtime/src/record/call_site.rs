//! What `#[timed]` expands to. Not public API: only the generated code uses it.

use std::sync::OnceLock;

use crate::record::call_timer::{CallTimer, OutcomeSeries};
use crate::record::outcome::Outcome;
use crate::store::registry::Origin;
use crate::store::summary::SummaryCore;

/// One `#[timed]` function, as a `static` inside it: its series (one per outcome) are resolved
/// on the first call and cached, so every later call is one atomic load plus the timer.
#[doc(hidden)]
#[derive(Debug)]
pub struct CallSite {
    name: &'static str,
    help: &'static str,
    labels: &'static [(&'static str, &'static str)],
    origin: Origin,
    asynchronous: bool,
    /// A histogram's bucket bounds (seconds, checked by the macro); empty for a summary.
    buckets: &'static [f64],
    /// A summary's quantiles (checked by the macro); empty for none.
    quantiles: &'static [f64],
    series: OnceLock<&'static OutcomeSeries>,
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
        asynchronous: bool,
        buckets: &'static [f64],
        quantiles: &'static [f64],
    ) -> Self {
        CallSite {
            name,
            help,
            labels,
            origin,
            asynchronous,
            buckets,
            quantiles,
            series: OnceLock::new(),
        }
    }

    /// Starts timing one call; `fallible` says whether the function returns a `Result`.
    #[doc(hidden)]
    #[inline]
    pub fn enter(&'static self, fallible: bool) -> CallTimer {
        match self.series.get() {
            Some(series) => CallTimer::start(series),
            None => self.first_enter(fallible),
        }
    }

    /// A call before the series are known: resolves them, unless this thread is inside
    /// pushtimer's own set-up (a timed allocator that the set-up calls), where the call is not
    /// timed rather than wait for a lock or a `OnceLock` its own thread holds.
    #[cold]
    fn first_enter(&'static self, fallible: bool) -> CallTimer {
        if crate::store::reentry::setting_up() {
            return CallTimer::untimed();
        }
        CallTimer::start(self.resolve(fallible))
    }

    /// The first call (or a few racing first calls): finds the series, caches them, and only
    /// then starts the runtime and reports what the registry had to say. The finding is a
    /// stretch of set-up (see `reentry.rs`); nothing is logged while the `OnceLock` is being
    /// set: a logger that itself calls this function must find it resolved, not re-enter its
    /// initialisation.
    fn resolve(&'static self, fallible: bool) -> &'static OutcomeSeries {
        let setting_up = crate::store::reentry::SettingUp::begin();
        let runtime = crate::lifecycle::global::created();
        // Calibrated before the series are published: a call on the hot path never calibrates
        // (calibrating allocates, and a timed allocator would wait for itself).
        crate::record::clock::clock();
        let mut notes = Vec::new();
        let by_outcome = Outcome::ALL.map(|outcome| {
            let possible = match outcome {
                Outcome::Ok | Outcome::Panic => true,
                Outcome::Error => fallible,
                Outcome::Cancelled => self.asynchronous,
            };
            if !possible {
                // Never recorded into; known to no registry, so never pushed.
                return SummaryCore::leak(self.name, self.buckets, self.quantiles);
            }
            let mut labels = self.labels.to_vec();
            labels.push(("outcome", outcome.label()));
            let call_site = (self as *const CallSite as usize, self.origin);
            let (series, more) = runtime.summary(
                self.name,
                self.help,
                &labels,
                self.buckets,
                self.quantiles,
                Some(call_site),
            );
            notes.extend(more);
            series
        });
        let series = *self.series.get_or_init(|| {
            Box::leak(Box::new(OutcomeSeries {
                by_outcome,
                fallible,
                asynchronous: self.asynchronous,
            }))
        });
        drop(setting_up);
        runtime.start();
        crate::diagnostics::emit(notes);
        series
    }
}

/// Always `true`. The generated code writes `if always() { body } else { never() }` where the
/// body may diverge (`loop {}`, `exit(1)`, a `return` on every path): the compiler cannot see
/// through a call, so what follows the body is not "unreachable code" to it, and no
/// `#[allow(unreachable_code)]` is needed (which a crate's `#![forbid(unreachable_code)]` would
/// refuse). Inlined to nothing.
#[doc(hidden)]
#[inline(always)]
pub const fn always() -> bool {
    true
}

/// A value of any type, for the branch [`always`] never takes: never called.
#[doc(hidden)]
#[inline(always)]
pub fn never<T>() -> T {
    unreachable!("pushtimer: a branch that is never taken was taken")
}
