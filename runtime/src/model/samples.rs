//! A metric as the flat samples the text format writes, one line each: the one place that
//! decides which samples a summary or a histogram has, for the text encoder and for whatever
//! else turns families into series (remote write).

use crate::model::family::{Metric, Value};

/// One sample of a metric: a suffix to the family's name, maybe one label more, a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    /// `""`, `"_bucket"`, `"_sum"` or `"_count"`.
    pub(crate) suffix: &'static str,
    /// `("le", bound)` of a bucket or `("quantile", q)` of a quantile; the number is written
    /// as the text encoder's `write_float` writes it.
    pub(crate) label: Option<(&'static str, f64)>,
    pub(crate) value: f64,
}

impl Sample {
    fn plain(suffix: &'static str, value: f64) -> Sample {
        Sample {
            suffix,
            label: None,
            value,
        }
    }
}

/// The samples of `metric`, in the order the text format writes them (the order of the
/// `prometheus` crate's encoder and of client_golang's):
/// - a counter, gauge or untyped value: one sample of the bare name;
/// - a summary: each quantile (`{quantile="q"}`), then `_sum`, then `_count`;
/// - a histogram: each classic bucket with a finite bound (`_bucket{le="b"}`), the `+Inf`
///   bucket (the count), `_sum`, `_count`. A native histogram adds nothing: its buckets exist
///   only in the protobuf format, so one without classic buckets is just its `+Inf` bucket,
///   sum and count here, as the Pushgateway shows it.
///
/// Counts are written as `f64`, exact below 2^53.
pub(crate) fn samples(metric: &Metric) -> Vec<Sample> {
    match &metric.value {
        Value::Counter(value) | Value::Gauge(value) | Value::Untyped(value) => {
            vec![Sample::plain("", *value)]
        }
        Value::Summary(summary) => {
            let mut samples = Vec::with_capacity(summary.quantiles.len().saturating_add(2));
            samples.extend(summary.quantiles.iter().map(|q| Sample {
                suffix: "",
                label: Some(("quantile", q.quantile)),
                value: q.value,
            }));
            samples.push(Sample::plain("_sum", summary.sum));
            samples.push(Sample::plain("_count", summary.count as f64));
            samples
        }
        Value::Histogram(histogram) => {
            let mut samples = Vec::with_capacity(histogram.buckets.len().saturating_add(3));
            samples.extend(
                histogram
                    .buckets
                    .iter()
                    .filter(|bucket| bucket.upper_bound != f64::INFINITY)
                    .map(|bucket| Sample {
                        suffix: "_bucket",
                        label: Some(("le", bucket.upper_bound)),
                        value: bucket.cumulative_count as f64,
                    }),
            );
            let count = histogram.count as f64;
            samples.push(Sample {
                suffix: "_bucket",
                label: Some(("le", f64::INFINITY)),
                value: count,
            });
            samples.push(Sample::plain("_sum", histogram.sum));
            samples.push(Sample::plain("_count", count));
            samples
        }
    }
}
