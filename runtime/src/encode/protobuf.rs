//! The delimited protobuf exposition format: each family as one
//! `io.prometheus.client.MetricFamily` message, preceded by its length as a varint, the
//! format a Pushgateway takes native histograms in (and Prometheus scrapes them in).
//!
//! The messages are declared in [`message`] with `prost`'s derive, so building needs no
//! `protoc`, with the field numbers of `io/prometheus/client/metrics.proto` (prometheus/
//! client_model; checked against it and its proto3 copy in prometheus/prometheus,
//! `prompb/io/prometheus/client/metrics.proto`, which has the same wire format). That file is
//! proto2: every scalar is `optional`, and, as client_golang does, every field the model has
//! is written even when it is 0 (a reader sees the same either way). Repeated numbers
//! (`*_delta`) are packed, which every protobuf parser must accept (the Pushgateway 1.5.1
//! does). Exemplars and created timestamps are not declared: the model has none.
//!
//! What is written from the model:
//! - a family: name, HELP (even empty), type, and the metrics [`check`] keeps, as
//!   `Metric{label, counter|gauge|untyped|summary|histogram, timestamp_ms if any}`;
//! - a histogram: count, sum, the classic buckets with finite bounds (`+Inf` is implicit in
//!   this format too), and for a native one its schema, zero threshold and count, spans and
//!   deltas. A native histogram without any span gets the no-op span `{offset: 0, length: 0}`
//!   on its positive side, which the format requires so that it is never read as a classic
//!   histogram without buckets.

use prost::Message as _;

use crate::model::check::{self, Problem};
use crate::model::family::{Family, Histogram, Kind, Metric, NativeBuckets, Value};

/// The `Content-Type` of this format.
pub(crate) const CONTENT_TYPE: &str = "application/vnd.google.protobuf; \
     proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// Appends `families`, each as a length-delimited `MetricFamily`, to `out`; returns what was
/// left out, and why.
pub(crate) fn encode(families: &[Family], out: &mut Vec<u8>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for family in families {
        let (metrics, problem) = check::usable(family);
        problems.extend(problem);
        if metrics.is_empty() {
            continue;
        }
        let message = family_message(family, &metrics);
        // A `Vec` grows as needed, so this never runs out of room; were it to, the family
        // would be left out and said so, rather than a panic.
        if let Err(error) = message.encode_length_delimited(out) {
            problems.push(Problem {
                family: family.name.clone(),
                why: format!("is left out: {error}"),
            });
        }
    }
    problems
}

/// The delimited protobuf of `families`, and what was left out.
pub(crate) fn to_vec(families: &[Family]) -> (Vec<u8>, Vec<Problem>) {
    let mut out = Vec::new();
    let problems = encode(families, &mut out);
    (out, problems)
}

/// The message of `family` with these of its `metrics`.
pub(crate) fn family_message(family: &Family, metrics: &[&Metric]) -> message::MetricFamily {
    let kind = match family.kind {
        Kind::Counter => message::MetricType::Counter,
        Kind::Gauge => message::MetricType::Gauge,
        Kind::Untyped => message::MetricType::Untyped,
        Kind::Summary => message::MetricType::Summary,
        Kind::Histogram => message::MetricType::Histogram,
    };
    message::MetricFamily {
        name: Some(family.name.clone()),
        help: Some(family.help.clone()),
        r#type: Some(kind as i32),
        metric: metrics
            .iter()
            .map(|metric| metric_message(metric))
            .collect(),
    }
}

fn metric_message(metric: &Metric) -> message::Metric {
    let mut out = message::Metric {
        label: metric
            .labels
            .iter()
            .map(|(name, value)| message::LabelPair {
                name: Some(name.clone()),
                value: Some(value.clone()),
            })
            .collect(),
        timestamp_ms: metric.timestamp_ms,
        ..Default::default()
    };
    match &metric.value {
        Value::Counter(value) => {
            out.counter = Some(message::Counter {
                value: Some(*value),
            });
        }
        Value::Gauge(value) => {
            out.gauge = Some(message::Gauge {
                value: Some(*value),
            });
        }
        Value::Untyped(value) => {
            out.untyped = Some(message::Untyped {
                value: Some(*value),
            });
        }
        Value::Summary(summary) => {
            out.summary = Some(message::Summary {
                sample_count: Some(summary.count),
                sample_sum: Some(summary.sum),
                quantile: summary
                    .quantiles
                    .iter()
                    .map(|q| message::Quantile {
                        quantile: Some(q.quantile),
                        value: Some(q.value),
                    })
                    .collect(),
            });
        }
        Value::Histogram(histogram) => out.histogram = Some(histogram_message(histogram)),
    }
    out
}

fn histogram_message(histogram: &Histogram) -> message::Histogram {
    let mut out = message::Histogram {
        sample_count: Some(histogram.count),
        sample_sum: Some(histogram.sum),
        bucket: histogram
            .buckets
            .iter()
            .filter(|bucket| bucket.upper_bound != f64::INFINITY)
            .map(|bucket| message::Bucket {
                cumulative_count: Some(bucket.cumulative_count),
                upper_bound: Some(bucket.upper_bound),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    if let Some(native) = &histogram.native {
        out.schema = Some(native.schema);
        out.zero_threshold = Some(native.zero_threshold);
        out.zero_count = Some(native.zero_count);
        out.negative_span = spans(&native.negative);
        out.negative_delta = native.negative.deltas();
        out.positive_span = spans(&native.positive);
        out.positive_delta = native.positive.deltas();
        if out.positive_span.is_empty() && out.negative_span.is_empty() {
            out.positive_span.push(message::BucketSpan {
                offset: Some(0),
                length: Some(0),
            });
        }
    }
    out
}

fn spans(buckets: &NativeBuckets) -> Vec<message::BucketSpan> {
    buckets
        .spans
        .iter()
        .map(|span| message::BucketSpan {
            offset: Some(span.offset),
            length: Some(span.length),
        })
        .collect()
}

/// The messages of `io/prometheus/client/metrics.proto` (package `io.prometheus.client`),
/// with its field numbers and types; what the model does not use is left out.
pub(crate) mod message {
    /// `MetricFamily`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct MetricFamily {
        #[prost(string, optional, tag = "1")]
        pub(crate) name: Option<String>,
        #[prost(string, optional, tag = "2")]
        pub(crate) help: Option<String>,
        #[prost(enumeration = "MetricType", optional, tag = "3")]
        pub(crate) r#type: Option<i32>,
        #[prost(message, repeated, tag = "4")]
        pub(crate) metric: Vec<Metric>,
    }

    /// `MetricType`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub(crate) enum MetricType {
        Counter = 0,
        Gauge = 1,
        Summary = 2,
        Untyped = 3,
        Histogram = 4,
        GaugeHistogram = 5,
    }

    /// `Metric` (no field 8 or beyond exists; 6 is the timestamp, 7 the histogram).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Metric {
        #[prost(message, repeated, tag = "1")]
        pub(crate) label: Vec<LabelPair>,
        #[prost(message, optional, tag = "2")]
        pub(crate) gauge: Option<Gauge>,
        #[prost(message, optional, tag = "3")]
        pub(crate) counter: Option<Counter>,
        #[prost(message, optional, tag = "4")]
        pub(crate) summary: Option<Summary>,
        #[prost(message, optional, tag = "5")]
        pub(crate) untyped: Option<Untyped>,
        #[prost(int64, optional, tag = "6")]
        pub(crate) timestamp_ms: Option<i64>,
        #[prost(message, optional, tag = "7")]
        pub(crate) histogram: Option<Histogram>,
    }

    /// `LabelPair`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct LabelPair {
        #[prost(string, optional, tag = "1")]
        pub(crate) name: Option<String>,
        #[prost(string, optional, tag = "2")]
        pub(crate) value: Option<String>,
    }

    /// `Gauge`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Gauge {
        #[prost(double, optional, tag = "1")]
        pub(crate) value: Option<f64>,
    }

    /// `Counter` (its exemplar, 2, and created timestamp, 3, left out).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Counter {
        #[prost(double, optional, tag = "1")]
        pub(crate) value: Option<f64>,
    }

    /// `Untyped`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Untyped {
        #[prost(double, optional, tag = "1")]
        pub(crate) value: Option<f64>,
    }

    /// `Quantile`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Quantile {
        #[prost(double, optional, tag = "1")]
        pub(crate) quantile: Option<f64>,
        #[prost(double, optional, tag = "2")]
        pub(crate) value: Option<f64>,
    }

    /// `Summary` (its created timestamp, 4, left out).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Summary {
        #[prost(uint64, optional, tag = "1")]
        pub(crate) sample_count: Option<u64>,
        #[prost(double, optional, tag = "2")]
        pub(crate) sample_sum: Option<f64>,
        #[prost(message, repeated, tag = "3")]
        pub(crate) quantile: Vec<Quantile>,
    }

    /// `Histogram`, classic and native fields (its created timestamp, 15, and exemplars, 16,
    /// left out). The float fields are declared for reading what a server answers; the
    /// encoder never writes them.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Histogram {
        #[prost(uint64, optional, tag = "1")]
        pub(crate) sample_count: Option<u64>,
        #[prost(double, optional, tag = "2")]
        pub(crate) sample_sum: Option<f64>,
        #[prost(message, repeated, tag = "3")]
        pub(crate) bucket: Vec<Bucket>,
        /// Overrides `sample_count` if > 0.
        #[prost(double, optional, tag = "4")]
        pub(crate) sample_count_float: Option<f64>,
        #[prost(sint32, optional, tag = "5")]
        pub(crate) schema: Option<i32>,
        #[prost(double, optional, tag = "6")]
        pub(crate) zero_threshold: Option<f64>,
        #[prost(uint64, optional, tag = "7")]
        pub(crate) zero_count: Option<u64>,
        #[prost(double, optional, tag = "8")]
        pub(crate) zero_count_float: Option<f64>,
        #[prost(message, repeated, tag = "9")]
        pub(crate) negative_span: Vec<BucketSpan>,
        #[prost(sint64, repeated, tag = "10")]
        pub(crate) negative_delta: Vec<i64>,
        #[prost(double, repeated, tag = "11")]
        pub(crate) negative_count: Vec<f64>,
        #[prost(message, repeated, tag = "12")]
        pub(crate) positive_span: Vec<BucketSpan>,
        #[prost(sint64, repeated, tag = "13")]
        pub(crate) positive_delta: Vec<i64>,
        #[prost(double, repeated, tag = "14")]
        pub(crate) positive_count: Vec<f64>,
    }

    /// `Bucket` (its exemplar, 3, left out).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Bucket {
        #[prost(uint64, optional, tag = "1")]
        pub(crate) cumulative_count: Option<u64>,
        #[prost(double, optional, tag = "2")]
        pub(crate) upper_bound: Option<f64>,
        /// Overrides `cumulative_count` if > 0.
        #[prost(double, optional, tag = "4")]
        pub(crate) cumulative_count_float: Option<f64>,
    }

    /// `BucketSpan`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct BucketSpan {
        #[prost(sint32, optional, tag = "1")]
        pub(crate) offset: Option<i32>,
        #[prost(uint32, optional, tag = "2")]
        pub(crate) length: Option<u32>,
    }
}
