//! Counters kept by hand: how many rows, bytes or retries a job went through.

use crate::error::InvalidMetric;
use crate::record::described::Description;
use crate::settings::names;
use crate::store::counter::CounterCore;
use crate::store::families::{Core, Shape};

/// A counter in the global registry: a whole number that only goes up, pushed as
/// `<name>_total` with the naming rules, `PUSHTIMER_NAMESPACE` and `PUSHTIMER_LABELS` of timed
/// functions. Counting is one relaxed atomic add into the calling CPU's part of the counter,
/// so threads counting at once do not slow each other down. `Counter` is `Copy`: keep it
/// anywhere. For a one-off count at a call site, [`count!`](crate::count) needs no handle.
///
/// ```
/// let rows = pushtimer::Counter::builder("counter_doc_rows")
///     .help("Rows the job loaded")
///     .label("stage", "load")
///     .register()?;
/// rows.inc();
/// rows.inc_by(41);
/// assert_eq!(rows.value(), 42);
/// let text = pushtimer::render();
/// assert!(text.contains("# TYPE counter_doc_rows_total counter\n"));
/// assert!(text.contains("counter_doc_rows_total{stage=\"load\"} 42\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Counter {
    core: &'static CounterCore,
}

impl Counter {
    /// Starts describing a counter named `name` (`_total` is appended unless present).
    pub fn builder(name: &str) -> CounterBuilder {
        CounterBuilder {
            description: Description::new(name),
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.core.add(1);
    }

    /// Adds `amount`. The count saturates at 2^64 - 1 rather than wrap (Prometheus would read
    /// a wrap as a restart).
    #[inline]
    pub fn inc_by(&self, amount: u64) {
        self.core.add(amount);
    }

    /// The count so far, every thread's added up.
    pub fn value(&self) -> u64 {
        self.core.value()
    }
}

/// Describes a [`Counter`]; made by [`Counter::builder`].
#[derive(Debug, Clone)]
#[must_use = "call .register() to get the Counter"]
pub struct CounterBuilder {
    description: Description,
}

impl CounterBuilder {
    /// The HELP text. Default (also for an empty text): `` Count of `<name>_total` kept by the
    /// job.``
    pub fn help(mut self, help: &str) -> Self {
        self.description.set_help(help);
        self
    }

    /// Adds a constant label. Names follow the rules of `#[timed]`'s `labels(...)`.
    pub fn label(mut self, name: &str, value: &str) -> Self {
        self.description.add_label(name, value);
        self
    }

    /// Finds or creates the series in the global registry (a counter of the same name and
    /// labels, made here or by [`count!`](crate::count), is the same series).
    ///
    /// Fails like [`SummaryBuilder::register`](crate::SummaryBuilder::register): an invalid
    /// metric name, one starting with `pushtimer_`, or an invalid or reserved label name.
    pub fn register(self) -> Result<Counter, InvalidMetric> {
        self.description.check()?;
        let name = names::total_name(self.description.name());
        let [before, after] = pushtimer_names::COUNTER_HELP;
        let default_help = format!("{before}{name}{after}");
        let core = match self
            .description
            .register(&name, default_help, &Shape::Counter)
        {
            Core::Counter(core) => core,
            // The registry hands out a series of the shape asked for: never taken.
            _ => CounterCore::leak(&name),
        };
        Ok(Counter { core })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_suffix_is_added_once_and_bad_names_are_refused() {
        let a = Counter::builder("handle_rows").register().expect("valid");
        let b = Counter::builder("handle_rows_total")
            .register()
            .expect("valid");
        a.inc_by(2);
        b.inc();
        assert_eq!(a.value(), 3, "one series");
        for bad in ["9rows", "pushtimer_rows", "a-b"] {
            assert!(Counter::builder(bad).register().is_err(), "{bad}");
        }
        let refused = Counter::builder("handle_le").label("le", "1").register();
        assert!(
            refused
                .expect_err("refused")
                .reason
                .starts_with("label \"le\"")
        );
    }
}
