//! Families from the `prometheus` crate's data model (`prometheus::proto`, what
//! `Registry::gather` answers), so the user's own metrics in `pushtimer::registry()` go
//! through the same encoders as pushtimer's.
//!
//! Everything that data model carries is kept: name, HELP, type, labels in their order,
//! values, quantiles, buckets, a timestamp (0 there means none). With one exception: a bucket
//! with a `+Inf` bound, which a custom collector may add (the crate's own histograms never
//! do), is dropped, as the model's `+Inf` bucket is always the histogram's count (see
//! [`Histogram::buckets`]). Which field of a `Metric` holds the value is decided by the
//! family's type, as the crate's encoder decides it.

use prometheus::proto;

use crate::model::family::{Bucket, Family, Histogram, Kind, Metric, Quantile, Summary, Value};

/// `families` in the model, in the same order.
pub(crate) fn from_prometheus(families: &[proto::MetricFamily]) -> Vec<Family> {
    families.iter().map(Family::from).collect()
}

impl From<&proto::MetricFamily> for Family {
    fn from(family: &proto::MetricFamily) -> Family {
        let kind = match family.get_field_type() {
            proto::MetricType::COUNTER => Kind::Counter,
            proto::MetricType::GAUGE => Kind::Gauge,
            proto::MetricType::UNTYPED => Kind::Untyped,
            proto::MetricType::SUMMARY => Kind::Summary,
            proto::MetricType::HISTOGRAM => Kind::Histogram,
        };
        Family {
            name: family.name().to_owned(),
            help: family.help().to_owned(),
            kind,
            metrics: family
                .get_metric()
                .iter()
                .map(|metric| metric_of(kind, metric))
                .collect(),
        }
    }
}

fn metric_of(kind: Kind, metric: &proto::Metric) -> Metric {
    let value = match kind {
        Kind::Counter => Value::Counter(metric.get_counter().get_value()),
        Kind::Gauge => Value::Gauge(metric.get_gauge().get_value()),
        // The crate marks its untyped accessors deprecated, but a user's collector may still
        // produce untyped metrics.
        #[allow(deprecated)]
        Kind::Untyped => Value::Untyped(metric.get_untyped().get_value()),
        Kind::Summary => {
            let summary = metric.get_summary();
            Value::Summary(Summary {
                count: summary.sample_count(),
                sum: summary.sample_sum(),
                quantiles: summary
                    .get_quantile()
                    .iter()
                    .map(|q| Quantile {
                        quantile: q.quantile(),
                        value: q.value(),
                    })
                    .collect(),
            })
        }
        Kind::Histogram => {
            let histogram = metric.get_histogram();
            Value::Histogram(Histogram {
                count: histogram.get_sample_count(),
                sum: histogram.get_sample_sum(),
                buckets: histogram
                    .get_bucket()
                    .iter()
                    .filter(|bucket| bucket.upper_bound() != f64::INFINITY)
                    .map(|bucket| Bucket {
                        upper_bound: bucket.upper_bound(),
                        cumulative_count: bucket.cumulative_count(),
                    })
                    .collect(),
                native: None,
            })
        }
    };
    let timestamp = metric.timestamp_ms();
    Metric {
        labels: metric
            .get_label()
            .iter()
            .map(|pair| (pair.name().to_owned(), pair.value().to_owned()))
            .collect(),
        value,
        timestamp_ms: (timestamp != 0).then_some(timestamp),
    }
}
