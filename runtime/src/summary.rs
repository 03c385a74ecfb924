//! The summary metric: a call count and an exact sum of durations, without quantiles.
//!
//! The `prometheus` crate has no Summary, so this one is ours. The sum is kept as integer
//! nanoseconds so that recording is one `fetch_add` and the total is exact however many calls
//! are added; it is converted to seconds only when collected.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Metric, MetricFamily, MetricType};

/// The live state of one series. Lives for the whole process (`&'static`), so a call site can
/// hold on to it without reference counting.
#[derive(Debug, Default)]
pub(crate) struct SummaryCore {
    /// The full metric name, for messages.
    name: Box<str>,
    count: AtomicU64,
    sum_nanos: AtomicU64,
    rejected: AtomicU64,
}

impl SummaryCore {
    /// A series, leaked: series are never removed from the global registry.
    pub(crate) fn leak(name: &str) -> &'static SummaryCore {
        Box::leak(Box::new(SummaryCore {
            name: name.into(),
            ..SummaryCore::default()
        }))
    }

    /// The full metric name, e.g. `ns_train_seconds`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Records one observation.
    #[inline]
    pub(crate) fn observe(&self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an observation that was refused (negative, NaN, infinite or out of range).
    pub(crate) fn reject(&self) -> u64 {
        self.rejected.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// `(count, sum in seconds)`.
    pub(crate) fn snapshot(&self) -> (u64, f64) {
        let count = self.count.load(Ordering::Relaxed);
        let sum_nanos = self.sum_nanos.load(Ordering::Relaxed);
        (count, nanos_to_seconds(sum_nanos))
    }
}

/// Exact for sums below 2^53 ns (104 days); beyond that, rounded to the nearest f64.
fn nanos_to_seconds(nanos: u64) -> f64 {
    let whole = nanos / 1_000_000_000;
    let fraction = nanos % 1_000_000_000;
    whole as f64 + fraction as f64 / 1e9
}

/// Exposes one series to a `prometheus::Registry`.
pub(crate) struct SummaryCollector {
    desc: Desc,
    core: &'static SummaryCore,
}

impl SummaryCollector {
    pub(crate) fn new(desc: Desc, core: &'static SummaryCore) -> Self {
        SummaryCollector { desc, core }
    }
}

impl Collector for SummaryCollector {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (count, sum) = self.core.snapshot();
        let mut summary = prometheus::proto::Summary::default();
        summary.set_sample_count(count);
        summary.set_sample_sum(sum);
        let mut metric = Metric::default();
        metric.set_label(self.desc.const_label_pairs.clone());
        metric.set_summary(summary);
        let mut family = MetricFamily::default();
        family.set_name(self.desc.fq_name.clone());
        family.set_help(self.desc.help.clone());
        family.set_field_type(MetricType::SUMMARY);
        family.set_metric(vec![metric]);
        vec![family]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_is_exact_in_nanoseconds() {
        let core = SummaryCore::default();
        for _ in 0..1000 {
            core.observe(Duration::from_nanos(1_000_001));
        }
        let (count, sum) = core.snapshot();
        assert_eq!(count, 1000);
        assert_eq!(sum, 1.000001);
    }

    #[test]
    fn huge_durations_saturate_instead_of_wrapping() {
        let core = SummaryCore::default();
        core.observe(Duration::MAX);
        assert_eq!(core.snapshot().0, 1);
        assert!(core.snapshot().1 > 1e10);
    }
}
