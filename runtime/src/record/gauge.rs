//! Gauges set by hand: a value of the job's that goes up and down, or a peak.

use crate::error::{InvalidMetric, InvalidValue};
use crate::record::described::Description;
use crate::store::families::{Core, Shape};
use crate::store::gauge::GaugeCore;

/// A gauge in the global registry: one value, set, added to, or raised to a peak, pushed as
/// `<name>` with the naming rules, `PUSHTIMER_NAMESPACE` and `PUSHTIMER_LABELS` of timed
/// functions. It starts at 0. NaN and infinities are refused: nothing is recorded, the error
/// says so, [`rejected`](Self::rejected) goes up and so does
/// `pushtimer_rejected_observations_total{metric="<name>"}`. `Gauge` is `Copy`.
///
/// A gauge is one atomic value, not one per CPU like a [`Counter`](crate::Counter): a `set`
/// must replace what every thread wrote. Set it from a few places, not from a hot loop of many
/// threads.
///
/// ```
/// let memory = pushtimer::Gauge::builder("gauge_doc_gpu_memory_used_bytes").register()?;
/// memory.set(2.0e9)?;
/// memory.add(-0.5e9)?;
/// assert_eq!(memory.value(), 1.5e9);
///
/// let peak = pushtimer::Gauge::builder("gauge_doc_gpu_memory_peak_bytes").register()?;
/// for used in [1.0e9, 3.0e9, 2.0e9] {
///     peak.set_max(used)?; // keeps the largest
/// }
/// assert_eq!(peak.value(), 3.0e9);
/// assert!(peak.set(f64::NAN).is_err()); // refused and counted, never recorded
/// assert_eq!(peak.rejected(), 1);
/// assert!(pushtimer::render().contains("gauge_doc_gpu_memory_peak_bytes 3000000000\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Gauge {
    core: &'static GaugeCore,
}

impl Gauge {
    /// Starts describing a gauge named `name` (used as it is: name it with its unit, e.g.
    /// `_bytes`, as Prometheus recommends).
    pub fn builder(name: &str) -> GaugeBuilder {
        GaugeBuilder {
            description: Description::new(name),
        }
    }

    /// Sets the value. Refuses NaN and infinities.
    pub fn set(&self, value: f64) -> Result<(), InvalidValue> {
        self.outcome(self.core.set(value), value)
    }

    /// Adds `delta` (negative to subtract). Refuses NaN, infinities and a sum that would be
    /// infinite (the value is then left as it was).
    pub fn add(&self, delta: f64) -> Result<(), InvalidValue> {
        self.outcome(self.core.add(delta), delta)
    }

    /// Raises the value to `value` when that is larger, and leaves it otherwise: the peak of
    /// what is given, e.g. memory in use. Refuses NaN and infinities.
    pub fn set_max(&self, value: f64) -> Result<(), InvalidValue> {
        self.outcome(self.core.set_max(value), value)
    }

    /// The value now.
    pub fn value(&self) -> f64 {
        self.core.value()
    }

    /// How many values this gauge refused so far.
    pub fn rejected(&self) -> u64 {
        self.core.rejected()
    }

    /// `Ok` when `taken`; else the refusal of `value`, counted (and warned about once).
    fn outcome(&self, taken: bool, value: f64) -> Result<(), InvalidValue> {
        if taken {
            return Ok(());
        }
        if self.core.reject() == 1 {
            crate::diagnostics::warn(format!(
                "gauge {} refused the value {value} (NaN, infinite, or a sum that would be); \
                 further refusals are only counted",
                self.core.name()
            ));
        }
        Err(InvalidValue { value })
    }
}

/// Describes a [`Gauge`]; made by [`Gauge::builder`].
#[derive(Debug, Clone)]
#[must_use = "call .register() to get the Gauge"]
pub struct GaugeBuilder {
    description: Description,
}

impl GaugeBuilder {
    /// The HELP text. Default (also for an empty text): `` Value of `<name>` set by the job.``
    pub fn help(mut self, help: &str) -> Self {
        self.description.set_help(help);
        self
    }

    /// Adds a constant label. Names follow the rules of `#[timed]`'s `labels(...)`.
    pub fn label(mut self, name: &str, value: &str) -> Self {
        self.description.add_label(name, value);
        self
    }

    /// Finds or creates the series in the global registry. Fails like
    /// [`SummaryBuilder::register`](crate::SummaryBuilder::register).
    pub fn register(self) -> Result<Gauge, InvalidMetric> {
        self.description.check()?;
        let name = self.description.name().to_owned();
        let default_help = format!("Value of `{name}` set by the job.");
        let core = match self
            .description
            .register(&name, default_help, &Shape::Gauge)
        {
            Core::Gauge(core) => core,
            // The registry hands out a series of the shape asked for: never taken.
            _ => GaugeCore::leak(&name),
        };
        Ok(Gauge { core })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_errors_counted_once_each() {
        let gauge = Gauge::builder("handle_gauge").register().expect("valid");
        assert_eq!(
            gauge.set(f64::INFINITY),
            Err(InvalidValue {
                value: f64::INFINITY
            })
        );
        assert!(gauge.add(f64::NAN).is_err());
        assert!(gauge.set_max(f64::NEG_INFINITY).is_err());
        assert!(gauge.set(f64::MAX).is_ok());
        assert_eq!(gauge.add(f64::MAX), Err(InvalidValue { value: f64::MAX }));
        assert_eq!(gauge.rejected(), 4);
        assert_eq!(gauge.value(), f64::MAX);
        assert!(Gauge::builder("pushtimer_x").register().is_err());
    }
}
