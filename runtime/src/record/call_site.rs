//! What `#[timed]` expands to. Not public API: only the generated code uses it.

use std::sync::OnceLock;

use crate::record::call_timer::{CallTimer, OutcomeSeries};
use crate::record::outcome::Outcome;
use crate::store::families::{Core, Shape};
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
    /// A native histogram's schema (checked by the macro); `None` for none.
    native: Option<i32>,
    /// The version of the crate the function is in, when that crate is the program's binary
    /// crate (see [`CallSite::new`]); `None` in a library.
    binary_crate_version: Option<&'static str>,
    series: OnceLock<&'static OutcomeSeries>,
}

impl CallSite {
    /// `name` already ends in `_seconds` and was validated by the macro, as were the labels;
    /// `help` is never empty (the macro fills in the default sentence); `native` is a native
    /// histogram's schema (checked by the macro), with `buckets` classic ones beside it or
    /// none (then made from the native ones). `bin_name` and
    /// `pkg_version` are `option_env!("CARGO_BIN_NAME")` and `option_env!("CARGO_PKG_VERSION")`
    /// where the function is compiled: cargo sets `CARGO_BIN_NAME` only for a binary target
    /// (a `[[bin]]` or an example), so the version is the program's only there, never a
    /// library's.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [(&'static str, &'static str)],
        origin: Origin,
        asynchronous: bool,
        buckets: &'static [f64],
        quantiles: &'static [f64],
        native: Option<i32>,
        bin_name: Option<&'static str>,
        pkg_version: Option<&'static str>,
    ) -> Self {
        CallSite {
            name,
            help,
            labels,
            origin,
            asynchronous,
            buckets,
            quantiles,
            native,
            binary_crate_version: binary_crate_version(bin_name, pkg_version),
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
        if let Some(version) = self.binary_crate_version {
            crate::store::run::binary_crate_version(version);
        }
        let runtime = crate::lifecycle::global::created();
        // Calibrated before the series are published: a call on the hot path never calibrates
        // (calibrating allocates, and a timed allocator would wait for itself).
        crate::record::clock::clock();
        let mut notes = Vec::new();
        let shape = match self.native {
            Some(schema) => Shape::Histogram {
                buckets: self.buckets.to_vec(),
                native: Some(schema),
            },
            None => Shape::timing(self.buckets, self.quantiles),
        };
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
            let (series, more) =
                runtime.series(self.name, self.help, &labels, &shape, Some(call_site));
            notes.extend(more);
            match series {
                Core::Summary(series) => series,
                // The registry hands out a series of the shape asked for: never taken.
                _ => SummaryCore::leak(self.name, self.buckets, self.quantiles),
            }
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

/// The program's version as a call site sees it: its crate's, when that crate is a binary
/// (`bin_name` is set), else unknown.
const fn binary_crate_version(
    bin_name: Option<&'static str>,
    pkg_version: Option<&'static str>,
) -> Option<&'static str> {
    match (bin_name, pkg_version) {
        (Some(_), Some(version)) if !version.is_empty() => Some(version),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a binary target's version is the program's: a library's timed function (compiled
    /// without `CARGO_BIN_NAME`) claims none, whatever its own version.
    #[test]
    fn only_a_binary_crate_gives_the_programs_version() {
        assert_eq!(
            binary_crate_version(Some("etl"), Some("1.2.3")),
            Some("1.2.3")
        );
        assert_eq!(binary_crate_version(None, Some("1.2.3")), None);
        assert_eq!(binary_crate_version(Some("etl"), None), None);
        assert_eq!(binary_crate_version(Some("etl"), Some("")), None);
        static SITE: CallSite = CallSite::new(
            "f_seconds",
            "help",
            &[],
            Origin {
                module_path: "m",
                function: "f",
                named: false,
            },
            false,
            &[],
            &[],
            None,
            Some("etl"),
            Some("4.5.6"),
        );
        assert_eq!(SITE.binary_crate_version, Some("4.5.6"));
    }
}
