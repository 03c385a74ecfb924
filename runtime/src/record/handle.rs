//! Summaries observed by hand, for durations not shaped like a function call.

use std::time::Duration;

use crate::error::{InvalidMetric, InvalidObservation};
use crate::record::described::Description;
use crate::record::timer::Timer;
use crate::settings::names;
use crate::store::families::{Core, Shape};
use crate::store::summary::SummaryCore;

/// A summary of durations in the global registry, for observing by hand: a duration measured
/// between two events, or one reported by another system.
///
/// It shares the registry, the naming rules (`_seconds` suffix, `PUSHTIMER_NAMESPACE`,
/// `PUSHTIMER_LABELS`) and the pushing of `#[timed]` functions; a `#[timed]` function with the
/// same name and labels feeds the same series. `Summary` is `Copy`: keep it anywhere.
///
/// ```
/// use std::time::Duration;
///
/// let queue_wait = pushtimer::Summary::builder("queue_wait")
///     .help("Time a batch waited in the queue")
///     .label("queue", "default")
///     .register()?;
/// queue_wait.observe(1.25)?;
/// queue_wait.observe_duration(Duration::from_millis(750));
/// assert!(queue_wait.observe(-1.0).is_err()); // refused and counted, never recorded
/// assert_eq!(queue_wait.rejected(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    core: &'static SummaryCore,
}

impl Summary {
    /// Starts describing a summary named `name` (`_seconds` is appended unless present).
    pub fn builder(name: &str) -> SummaryBuilder {
        SummaryBuilder {
            description: Description::new(name),
            quantiles: Vec::new(),
        }
    }

    /// Records one duration given in seconds.
    ///
    /// Negative, NaN and infinite values (and values of 2^64 ns or more, about 584 years) are
    /// refused: nothing is recorded, the error says why, [`rejected`](Self::rejected) goes up
    /// and so does `pushtimer_rejected_observations_total{metric="<name>_seconds"}`, so the refusal
    /// shows in Prometheus too.
    pub fn observe(&self, seconds: f64) -> Result<(), InvalidObservation> {
        match Duration::try_from_secs_f64(seconds) {
            Ok(duration) if duration.as_nanos() < u128::from(u64::MAX) => {
                self.core.observe(duration);
                Ok(())
            }
            _ => {
                if self.core.reject() == 1 {
                    crate::diagnostics::warn(format!(
                        "summary {} refused an observation of {seconds} s (negative, NaN, \
                         infinite or 2^64 ns and more); further refusals are only counted",
                        self.core.name()
                    ));
                }
                Err(InvalidObservation { seconds })
            }
        }
    }

    /// Records one duration. A `Duration` cannot be negative, so this cannot fail.
    pub fn observe_duration(&self, duration: Duration) {
        self.core.observe(duration);
    }

    /// Starts a [`Timer`] that records into this summary when dropped.
    pub fn start_timer(&self) -> Timer {
        Timer::start(self.core)
    }

    /// How many observations this summary refused so far.
    pub fn rejected(&self) -> u64 {
        self.core.rejected()
    }
}

/// Describes a [`Summary`]; made by [`Summary::builder`].
#[derive(Debug, Clone)]
#[must_use = "call .register() to get the Summary"]
pub struct SummaryBuilder {
    description: Description,
    quantiles: Vec<f64>,
}

impl SummaryBuilder {
    /// The HELP text. Default (also for an empty text): `` Wall-clock time of `<name>_seconds`, in
    /// seconds.``
    pub fn help(mut self, help: &str) -> Self {
        self.description.set_help(help);
        self
    }

    /// Adds a constant label. Names follow the rules of `#[timed]`'s `labels(...)`.
    pub fn label(mut self, name: &str, value: &str) -> Self {
        self.description.add_label(name, value);
        self
    }

    /// Quantiles over the whole run, each in (0, 1), strictly increasing, e.g.
    /// `&[0.5, 0.9, 0.99]`: pushed as `{quantile="0.99"}` series, each within 1% of the true
    /// value for any duration (0 to 2^64 ns). Default: none.
    pub fn quantiles(mut self, quantiles: &[f64]) -> Self {
        self.quantiles = quantiles.to_vec();
        self
    }

    /// Finds or creates the series in the global registry.
    ///
    /// Fails when the name is not a valid metric name or a label name is invalid or reserved
    /// (`job`, `instance`, `quantile`, `le`, `outcome`, `__*`), or the name starts with
    /// `pushtimer_` (pushtimer's own metrics).
    pub fn register(self) -> Result<Summary, InvalidMetric> {
        self.register_with_buckets(&[], None)
    }

    /// [`register`](Self::register), as a histogram with these classic bucket bounds when
    /// there are any and native buckets of this schema when there is one (both checked here).
    fn register_with_buckets(
        self,
        buckets: &[f64],
        native: Option<i32>,
    ) -> Result<Summary, InvalidMetric> {
        let problem = names::buckets_problem(buckets)
            .or_else(|| names::quantiles_problem(&self.quantiles))
            .or_else(|| native.and_then(names::native_schema_problem));
        if let Some(reason) = problem {
            return Err(self.description.refused(reason));
        }
        self.description.check()?;
        let name = names::seconds_name(self.description.name());
        let shape = match native {
            Some(schema) => Shape::Histogram {
                buckets: buckets.to_vec(),
                native: Some(schema),
            },
            None => Shape::timing(buckets, &self.quantiles),
        };
        let default_help = names::default_help(&format!("`{name}`"));
        let core = match self.description.register(&name, default_help, &shape) {
            Core::Summary(core) => core,
            // The registry hands out a series of the shape asked for: never taken.
            _ => SummaryCore::leak(&name, buckets, &self.quantiles),
        };
        Ok(Summary { core })
    }
}

/// A histogram of durations in the global registry, for observing by hand: the exact number of
/// observations at or below each bucket bound (`_bucket{le="..."}`), which Prometheus can merge
/// across jobs (`histogram_quantile`). `#[timed(histogram)]` makes the same for a function.
///
/// ```
/// let upload = pushtimer::Histogram::builder("shard_upload")
///     .buckets(&[0.1, 1.0, 10.0])
///     .register()?;
/// upload.observe(0.25)?;
/// upload.observe(3.0)?;
/// let text = pushtimer::render();
/// assert!(text.contains("shard_upload_seconds_bucket{le=\"1\"} 1"));
/// assert!(text.contains("shard_upload_seconds_bucket{le=\"+Inf\"} 2"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Histogram {
    summary: Summary,
}

impl Histogram {
    /// Starts describing a histogram named `name` (`_seconds` is appended unless present),
    /// with [`DEFAULT_BUCKETS`](crate::DEFAULT_BUCKETS) unless [`buckets`](HistogramBuilder::buckets)
    /// says otherwise.
    pub fn builder(name: &str) -> HistogramBuilder {
        HistogramBuilder {
            summary: Summary::builder(name),
            buckets: None,
            native: None,
        }
    }

    /// Records one duration given in seconds; refuses (and counts) what
    /// [`Summary::observe`] refuses.
    pub fn observe(&self, seconds: f64) -> Result<(), InvalidObservation> {
        self.summary.observe(seconds)
    }

    /// Records one duration.
    pub fn observe_duration(&self, duration: Duration) {
        self.summary.observe_duration(duration);
    }

    /// Starts a [`Timer`] that records into this histogram when dropped.
    pub fn start_timer(&self) -> Timer {
        self.summary.start_timer()
    }

    /// How many observations this histogram refused so far.
    pub fn rejected(&self) -> u64 {
        self.summary.rejected()
    }
}

/// Describes a [`Histogram`]; made by [`Histogram::builder`].
#[derive(Debug, Clone)]
#[must_use = "call .register() to get the Histogram"]
pub struct HistogramBuilder {
    summary: SummaryBuilder,
    /// The classic bucket bounds given; `None` for the default.
    buckets: Option<Vec<f64>>,
    /// The native buckets' schema; `None` for none.
    native: Option<i32>,
}

impl HistogramBuilder {
    /// The classic bucket upper bounds, in seconds: finite, above zero, strictly increasing
    /// (`+Inf` is added by itself). Default: [`DEFAULT_BUCKETS`](crate::DEFAULT_BUCKETS), or
    /// for a [`native`](Self::native) histogram, bounds at the powers of 4 from 61 µs to
    /// 4.6 h made from its native buckets (exact, and free on the recording side).
    pub fn buckets(mut self, bounds: &[f64]) -> Self {
        self.buckets = Some(bounds.to_vec());
        self
    }

    /// Native buckets too, at schema [`DEFAULT_NATIVE_SCHEMA`](crate::DEFAULT_NATIVE_SCHEMA):
    /// exponential buckets that need no bounds chosen, merge across every job in Prometheus
    /// (`histogram_quantile(0.99, sum(x_seconds))`) and are pushed in the protobuf format that
    /// carries them (see `docs/metrics.md`). Without [`buckets`](Self::buckets), the classic
    /// buckets beside them are made from them at the powers of 4, so recording costs one
    /// bucket count, as a summary's.
    ///
    /// ```
    /// let shard = pushtimer::Histogram::builder("native_doc_shard").native().register()?;
    /// shard.observe(0.2)?;
    /// shard.observe(3.0)?;
    /// let text = pushtimer::render(); // text shows the classic buckets and the count
    /// assert!(text.contains("native_doc_shard_seconds_bucket{le=\"0.25\"} 1\n"));
    /// assert!(text.contains("native_doc_shard_seconds_count 2\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn native(self) -> Self {
        self.native_schema(crate::DEFAULT_NATIVE_SCHEMA)
    }

    /// [`native`](Self::native) buckets of `schema`, from -4 (each bucket 2^16 times as wide
    /// as the one below) to 8 (256 buckets per power of two, each 0.27 % wider than the one
    /// below); checked by [`register`](Self::register). Buckets are `2^(2^-schema)` times as
    /// wide as the one below, and a series that would need more than 160 is sent at a lower
    /// schema.
    pub fn native_schema(mut self, schema: i32) -> Self {
        self.native = Some(schema);
        self
    }

    /// The HELP text (see [`SummaryBuilder::help`]).
    pub fn help(mut self, help: &str) -> Self {
        self.summary = self.summary.help(help);
        self
    }

    /// Adds a constant label (see [`SummaryBuilder::label`]).
    pub fn label(mut self, name: &str, value: &str) -> Self {
        self.summary = self.summary.label(name, value);
        self
    }

    /// Finds or creates the series in the global registry. Fails like
    /// [`SummaryBuilder::register`], and when the buckets are not finite, above zero and
    /// strictly increasing.
    pub fn register(self) -> Result<Histogram, InvalidMetric> {
        let buckets = match (self.buckets, self.native) {
            (Some(buckets), _) => buckets,
            (None, Some(_)) => Vec::new(),
            (None, None) => crate::DEFAULT_BUCKETS.to_vec(),
        };
        let summary = self.summary.register_with_buckets(&buckets, self.native)?;
        Ok(Histogram { summary })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_quantiles_and_buckets_are_refused() {
        let summary = Summary::builder("handle_le").label("le", "1").register();
        let refused = summary.expect_err("refused");
        assert_eq!(refused.metric, "handle_le");
        assert!(refused.reason.starts_with("label \"le\""), "{refused}");
        let summary = Summary::builder("handle_q")
            .label("quantile", "1")
            .register();
        let refused = summary.expect_err("refused");
        assert!(
            refused.reason.starts_with("label \"quantile\""),
            "{refused}"
        );
        let histogram = Histogram::builder("handle_h")
            .buckets(&[1.0])
            .label("le", "1")
            .register();
        let refused = histogram.expect_err("refused");
        assert!(refused.reason.starts_with("label \"le\""), "{refused}");
    }

    #[test]
    fn names_of_pushtimers_own_metrics_are_refused() {
        let summary = Summary::builder("pushtimer_job_duration").register();
        assert_eq!(
            summary.err().map(|e| e.metric),
            Some("pushtimer_job_duration".to_owned())
        );
        let histogram = Histogram::builder("pushtimer_x").register();
        assert!(histogram.is_err());
        assert!(Summary::builder("pushtimers_own").register().is_ok());
    }
}
