//! The families the encoders' and the model's tests share: every type, built both as
//! `prometheus::proto` and through the model, and the `prometheus` crate's own text encoder
//! to compare with.

use prometheus::proto;
use prometheus::{Encoder, TextEncoder};

use crate::model::family::{
    Bucket, Family, Histogram, Kind, Metric, Native, NativeBuckets, Quantile, Span, Summary, Value,
};

/// What the `prometheus` crate's `TextEncoder` writes for `families`.
pub(super) fn prometheus_text(families: &[proto::MetricFamily]) -> String {
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(families, &mut buffer)
        .expect("the prometheus crate encodes these families");
    String::from_utf8(buffer).expect("UTF-8")
}

/// `text` (the `prometheus` crate's) with infinities spelt as Go spells them, the one place
/// this model's encoder differs on purpose: a sample's value (its last token, or the one
/// before a timestamp) and the `le` and `quantile` labels it adds. Metric names here are never
/// `inf`, and a user's label value cannot hold `,le="` (its quotes are escaped).
pub(super) fn with_go_infinities(text: &str) -> String {
    let go = |token: &str| match token {
        "inf" => Some("+Inf"),
        "-inf" => Some("-Inf"),
        _ => None,
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let mut line = line.to_owned();
        if !line.starts_with('#') {
            for label in ["le", "quantile"] {
                for separator in ['{', ','] {
                    for (rust, go) in [("inf", "+Inf"), ("-inf", "-Inf")] {
                        line = line.replace(
                            &format!("{separator}{label}=\"{rust}\""),
                            &format!("{separator}{label}=\"{go}\""),
                        );
                    }
                }
            }
            let tokens: Vec<&str> = line.rsplitn(3, ' ').collect();
            let fixed = match tokens.as_slice() {
                [last, rest @ ..] if go(last).is_some() => {
                    let mut parts: Vec<&str> = rest.iter().rev().copied().collect();
                    parts.push(go(last).unwrap_or(last));
                    Some(parts.join(" "))
                }
                [timestamp, value, rest] if timestamp.parse::<i64>().is_ok() => {
                    go(value).map(|value| format!("{rest} {value} {timestamp}"))
                }
                _ => None,
            };
            if let Some(fixed) = fixed {
                line = fixed;
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn label_pair(name: &str, value: &str) -> proto::LabelPair {
    let mut pair = proto::LabelPair::default();
    pair.set_name(name.to_owned());
    pair.set_value(value.to_owned());
    pair
}

/// A `prometheus::proto` family.
pub(super) fn proto_family(
    name: &str,
    help: &str,
    kind: proto::MetricType,
    metrics: Vec<proto::Metric>,
) -> proto::MetricFamily {
    let mut family = proto::MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(help.to_owned());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

/// A `prometheus::proto` metric with these labels, its value set by `set`.
pub(super) fn proto_metric(
    labels: &[(&str, &str)],
    set: impl FnOnce(&mut proto::Metric),
) -> proto::Metric {
    let mut metric = proto::Metric::default();
    metric.set_label(labels.iter().map(|(n, v)| label_pair(n, v)).collect());
    set(&mut metric);
    metric
}

pub(super) fn proto_counter(value: f64) -> impl FnOnce(&mut proto::Metric) {
    move |metric| {
        let mut counter = proto::Counter::default();
        counter.set_value(value);
        metric.set_counter(counter);
    }
}

pub(super) fn proto_gauge(value: f64) -> impl FnOnce(&mut proto::Metric) {
    move |metric| {
        let mut gauge = proto::Gauge::default();
        gauge.set_value(value);
        metric.set_gauge(gauge);
    }
}

pub(super) fn proto_summary(
    count: u64,
    sum: f64,
    quantiles: &[(f64, f64)],
) -> impl FnOnce(&mut proto::Metric) {
    let quantiles = quantiles.to_vec();
    move |metric| {
        let mut summary = proto::Summary::default();
        summary.set_sample_count(count);
        summary.set_sample_sum(sum);
        summary.set_quantile(
            quantiles
                .into_iter()
                .map(|(q, value)| {
                    let mut quantile = proto::Quantile::default();
                    quantile.set_quantile(q);
                    quantile.set_value(value);
                    quantile
                })
                .collect(),
        );
        metric.set_summary(summary);
    }
}

pub(super) fn proto_histogram(
    count: u64,
    sum: f64,
    buckets: &[(f64, u64)],
) -> impl FnOnce(&mut proto::Metric) {
    let buckets = buckets.to_vec();
    move |metric| {
        let mut histogram = proto::Histogram::default();
        histogram.set_sample_count(count);
        histogram.set_sample_sum(sum);
        histogram.set_bucket(
            buckets
                .into_iter()
                .map(|(bound, cumulative)| {
                    let mut bucket = proto::Bucket::default();
                    bucket.set_upper_bound(bound);
                    bucket.set_cumulative_count(cumulative);
                    bucket
                })
                .collect(),
        );
        metric.set_histogram(histogram);
    }
}

/// Label values no encoder may get wrong.
pub(super) const AWKWARD: &[&str] = &[
    "",
    "plain",
    "back\\slash",
    "quote\"d",
    "new\nline",
    "\\n not a newline",
    "trailing backslash\\",
    "all \\ \" \n of them \"\\\"",
    "tab\tand carriage\rreturn",
    "braces {} = , and # hash",
    "unicode é ✓ 🦀",
];

/// HELP texts no encoder may get wrong.
pub(super) const AWKWARD_HELP: &[&str] = &[
    "Plain help.",
    "Back\\slash and new\nline, \"quotes\" kept.",
    "\\n is two characters, not a newline\\",
    " leading and trailing spaces ",
];

/// Families of every classic type, as `prometheus::proto` builds them: awkward labels and
/// HELP, special floats, empty label sets, many metrics. The same as [`model_families`].
pub(super) fn proto_families() -> Vec<proto::MetricFamily> {
    use proto::MetricType::{COUNTER, GAUGE, HISTOGRAM, SUMMARY};
    let awkward = AWKWARD
        .iter()
        .enumerate()
        .map(|(i, value)| proto_metric(&[("a", value), ("z", "1")], proto_counter(i as f64)))
        .collect();
    let specials = SPECIAL_FLOATS
        .iter()
        .enumerate()
        .map(|(i, value)| proto_metric(&[("i", &i.to_string())], proto_gauge(*value)))
        .collect();
    let many = (0..1000)
        .map(|i| {
            proto_metric(
                &[("shard", &i.to_string())],
                proto_counter(f64::from(i) * 0.5),
            )
        })
        .collect();
    vec![
        proto_family("awkward_total", AWKWARD_HELP[1], COUNTER, awkward),
        proto_family("specials", AWKWARD_HELP[2], GAUGE, specials),
        proto_family("bare", "", GAUGE, vec![proto_metric(&[], proto_gauge(7.0))]),
        proto_family(
            "stage_seconds",
            AWKWARD_HELP[3],
            SUMMARY,
            vec![
                proto_metric(&[], proto_summary(0, 0.0, &[])),
                proto_metric(
                    &[("outcome", "ok")],
                    proto_summary(3, 1.75, &[(0.5, 0.5), (0.99, 1.0)]),
                ),
                proto_metric(
                    &[("outcome", "e\"r\nr")],
                    proto_summary(u64::MAX, f64::NAN, &[]),
                ),
            ],
        ),
        proto_family(
            "load_seconds",
            AWKWARD_HELP[0],
            HISTOGRAM,
            vec![
                proto_metric(&[], proto_histogram(0, 0.0, &[])),
                proto_metric(
                    &[("stage", "fit")],
                    proto_histogram(4, 12.5, &[(0.005, 0), (0.25, 1), (1.0, 3), (300.0, 4)]),
                ),
                proto_metric(
                    &[("stage", "neg")],
                    proto_histogram(2, -1.5, &[(-1.0, 1), (-0.0, 1), (1e-7, 2)]),
                ),
            ],
        ),
        proto_family("many_total", "Many.", COUNTER, many),
    ]
}

/// Values of every awkward kind: zeros of both signs, integers, fractions, the smallest and
/// largest, NaN and the infinities.
pub(super) const SPECIAL_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    1e6,
    1.5e-7,
    123_456_789.125,
    9_007_199_254_740_994.0,
    f64::MAX,
    f64::MIN_POSITIVE,
    5e-324,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn metric(pairs: &[(&str, &str)], value: Value) -> Metric {
    Metric {
        labels: labels(pairs),
        value,
        timestamp_ms: None,
    }
}

fn summary(count: u64, sum: f64, quantiles: &[(f64, f64)]) -> Value {
    Value::Summary(Summary {
        count,
        sum,
        quantiles: quantiles
            .iter()
            .map(|&(quantile, value)| Quantile { quantile, value })
            .collect(),
    })
}

/// A classic histogram's value: `count`, `sum`, and `(upper bound, cumulative count)` buckets.
pub(crate) fn histogram(count: u64, sum: f64, buckets: &[(f64, u64)]) -> Value {
    Value::Histogram(Histogram {
        count,
        sum,
        buckets: buckets
            .iter()
            .map(|&(upper_bound, cumulative_count)| Bucket {
                upper_bound,
                cumulative_count,
            })
            .collect(),
        native: None,
    })
}

/// [`proto_families`], built through the model by hand.
pub(super) fn model_families() -> Vec<Family> {
    let family = |name: &str, help: &str, kind, metrics| Family {
        name: name.to_owned(),
        help: help.to_owned(),
        kind,
        metrics,
    };
    let awkward = AWKWARD
        .iter()
        .enumerate()
        .map(|(i, value)| metric(&[("a", value), ("z", "1")], Value::Counter(i as f64)))
        .collect();
    let specials = SPECIAL_FLOATS
        .iter()
        .enumerate()
        .map(|(i, value)| metric(&[("i", &i.to_string())], Value::Gauge(*value)))
        .collect();
    let many = (0..1000)
        .map(|i| {
            metric(
                &[("shard", &i.to_string())],
                Value::Counter(f64::from(i) * 0.5),
            )
        })
        .collect();
    vec![
        family("awkward_total", AWKWARD_HELP[1], Kind::Counter, awkward),
        family("specials", AWKWARD_HELP[2], Kind::Gauge, specials),
        family(
            "bare",
            "",
            Kind::Gauge,
            vec![metric(&[], Value::Gauge(7.0))],
        ),
        family(
            "stage_seconds",
            AWKWARD_HELP[3],
            Kind::Summary,
            vec![
                metric(&[], summary(0, 0.0, &[])),
                metric(
                    &[("outcome", "ok")],
                    summary(3, 1.75, &[(0.5, 0.5), (0.99, 1.0)]),
                ),
                metric(&[("outcome", "e\"r\nr")], summary(u64::MAX, f64::NAN, &[])),
            ],
        ),
        family(
            "load_seconds",
            AWKWARD_HELP[0],
            Kind::Histogram,
            vec![
                metric(&[], histogram(0, 0.0, &[])),
                metric(
                    &[("stage", "fit")],
                    histogram(4, 12.5, &[(0.005, 0), (0.25, 1), (1.0, 3), (300.0, 4)]),
                ),
                metric(
                    &[("stage", "neg")],
                    histogram(2, -1.5, &[(-1.0, 1), (-0.0, 1), (1e-7, 2)]),
                ),
            ],
        ),
        family("many_total", "Many.", Kind::Counter, many),
    ]
}

/// A native histogram of schema 3 with two positive spans and one negative, a zero bucket,
/// and classic buckets alongside when `classic`: 9 observations in all.
pub(crate) fn native_histogram(classic: bool) -> Histogram {
    Histogram {
        count: 9,
        sum: 4.25,
        buckets: if classic {
            vec![
                Bucket {
                    upper_bound: 0.5,
                    cumulative_count: 3,
                },
                Bucket {
                    upper_bound: 2.0,
                    cumulative_count: 8,
                },
            ]
        } else {
            Vec::new()
        },
        native: Some(Native {
            schema: 3,
            zero_threshold: 2f64.powi(-128),
            zero_count: 1,
            positive: NativeBuckets {
                spans: vec![
                    Span {
                        offset: -1,
                        length: 2,
                    },
                    Span {
                        offset: 3,
                        length: 1,
                    },
                ],
                counts: vec![2, 3, 1],
            },
            negative: NativeBuckets {
                spans: vec![Span {
                    offset: 0,
                    length: 1,
                }],
                counts: vec![2],
            },
        }),
    }
}
