//! The delimited protobuf encoder: decoded back with the same messages, and against
//! encodings derived by hand from `metrics.proto`.

use prost::Message as _;

use super::fixtures::{model_families, native_histogram};
use crate::encode::protobuf::{self, message};
use crate::encode::text;
use crate::model::family::{
    Bucket, Family, Histogram, Kind, Metric, Native, NativeBuckets, Quantile, Span, Summary, Value,
};

/// The messages of a delimited body, in order; fails the test on a malformed one.
pub(super) fn decode_all(mut body: &[u8]) -> Vec<message::MetricFamily> {
    let mut families = Vec::new();
    while !body.is_empty() {
        let family = message::MetricFamily::decode_length_delimited(&mut body)
            .expect("a length-delimited MetricFamily");
        families.push(family);
    }
    families
}

/// A decoded message back in the model (deltas summed into counts; the no-op span dropped).
pub(super) fn to_model(family: &message::MetricFamily) -> Family {
    let kind = match family.r#type() {
        message::MetricType::Counter => Kind::Counter,
        message::MetricType::Gauge => Kind::Gauge,
        message::MetricType::Untyped => Kind::Untyped,
        message::MetricType::Summary => Kind::Summary,
        message::MetricType::Histogram | message::MetricType::GaugeHistogram => Kind::Histogram,
    };
    let metrics = family
        .metric
        .iter()
        .map(|metric| {
            let value = match kind {
                Kind::Counter => Value::Counter(metric.counter.as_ref().expect("counter").value()),
                Kind::Gauge => Value::Gauge(metric.gauge.as_ref().expect("gauge").value()),
                Kind::Untyped => Value::Untyped(metric.untyped.as_ref().expect("untyped").value()),
                Kind::Summary => {
                    let summary = metric.summary.as_ref().expect("summary");
                    Value::Summary(Summary {
                        count: summary.sample_count(),
                        sum: summary.sample_sum(),
                        quantiles: summary
                            .quantile
                            .iter()
                            .map(|q| Quantile {
                                quantile: q.quantile(),
                                value: q.value(),
                            })
                            .collect(),
                    })
                }
                Kind::Histogram => {
                    Value::Histogram(histogram(metric.histogram.as_ref().expect("histogram")))
                }
            };
            Metric {
                labels: metric
                    .label
                    .iter()
                    .map(|pair| (pair.name().to_owned(), pair.value().to_owned()))
                    .collect(),
                value,
                timestamp_ms: metric.timestamp_ms,
            }
        })
        .collect();
    Family {
        name: family.name().to_owned(),
        help: family.help().to_owned(),
        kind,
        metrics,
    }
}

fn histogram(histogram: &message::Histogram) -> Histogram {
    let side = |spans: &[message::BucketSpan], deltas: &[i64]| {
        let mut count = 0u64;
        NativeBuckets {
            spans: spans
                .iter()
                .filter(|span| span.length() > 0 || span.offset() != 0)
                .map(|span| Span {
                    offset: span.offset(),
                    length: span.length(),
                })
                .collect(),
            counts: deltas
                .iter()
                .map(|&delta| {
                    count = count.wrapping_add(delta as u64);
                    count
                })
                .collect(),
        }
    };
    Histogram {
        count: histogram.sample_count(),
        sum: histogram.sample_sum(),
        buckets: histogram
            .bucket
            .iter()
            .map(|bucket| Bucket {
                upper_bound: bucket.upper_bound(),
                cumulative_count: bucket.cumulative_count(),
            })
            .collect(),
        native: histogram.schema.map(|schema| Native {
            schema,
            zero_threshold: histogram.zero_threshold(),
            zero_count: histogram.zero_count(),
            positive: side(&histogram.positive_span, &histogram.positive_delta),
            negative: side(&histogram.negative_span, &histogram.negative_delta),
        }),
    }
}

/// Families of every type, native histograms included, without NaN (which is never equal to
/// itself): decoded back, they are the families encoded, and in the same order.
#[test]
fn every_type_decodes_back_to_what_was_encoded() {
    let mut families: Vec<Family> = model_families();
    for family in &mut families {
        for metric in &mut family.metrics {
            if let Value::Gauge(value) = &mut metric.value
                && value.is_nan()
            {
                *value = 0.5;
            }
            if let Value::Summary(summary) = &mut metric.value
                && summary.sum.is_nan()
            {
                summary.sum = -0.5;
            }
        }
    }
    let mut big = native_histogram(true);
    if let Some(native) = big.native.as_mut() {
        native.positive.counts = vec![u64::MAX, 0, 1 << 63];
    }
    let empty_native = Histogram {
        native: Some(Native {
            schema: -4,
            zero_threshold: 0.0,
            zero_count: 0,
            positive: NativeBuckets::default(),
            negative: NativeBuckets::default(),
        }),
        ..Histogram::default()
    };
    families.push(
        Family::new("rpc_seconds", "", Kind::Histogram)
            .with(Metric::new(&[("kind", "native")], native_histogram(false)))
            .with(Metric::new(&[("kind", "both")], native_histogram(true)))
            .with(Metric::new(&[("kind", "big")], big))
            .with(Metric::new(&[("kind", "empty")], empty_native)),
    );
    families.push(
        Family::new("legacy", "Untyped.", Kind::Untyped).with(Metric {
            labels: vec![("a".into(), "b".into())],
            value: Value::Untyped(-2.0),
            timestamp_ms: Some(1_700_000_000_000),
        }),
    );
    let (body, problems) = protobuf::to_vec(&families);
    assert!(problems.is_empty(), "{problems:?}");
    let decoded = decode_all(&body);
    let back: Vec<Family> = decoded.iter().map(to_model).collect();
    assert_eq!(back, families);
    // The empty native histogram carries the no-op span, the others their own spans only.
    let rpc = decoded
        .iter()
        .find(|f| f.name() == "rpc_seconds")
        .expect("rpc_seconds");
    let spans: Vec<usize> = rpc
        .metric
        .iter()
        .map(|m| m.histogram.as_ref().map_or(0, |h| h.positive_span.len()))
        .collect();
    assert_eq!(spans, [2, 2, 2, 1]);
    let noop = &rpc.metric[3]
        .histogram
        .as_ref()
        .expect("histogram")
        .positive_span[0];
    assert_eq!((noop.offset, noop.length), (Some(0), Some(0)));
}

/// A counter, by hand from metrics.proto: `MetricFamily{name=1, help=2, type=3, metric=4}`,
/// `Metric{counter=3}`, `Counter{value=1 (double)}`, all preceded by the length.
#[test]
fn a_counter_is_encoded_as_derived_by_hand() {
    let family =
        Family::new("a_total", "h", Kind::Counter).with(Metric::new(&[], Value::Counter(1.0)));
    let (body, problems) = protobuf::to_vec(&[family]);
    assert!(problems.is_empty());
    #[rustfmt::skip]
    let expected: &[u8] = &[
        27, // the message's length
        0x0a, 7, b'a', b'_', b't', b'o', b't', b'a', b'l', // 1: name
        0x12, 1, b'h', // 2: help
        0x18, 0, // 3: type COUNTER (0), written
        0x22, 11, // 4: metric
            0x1a, 9, // 3: counter
                0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // 1: value 1.0, little-endian double
    ];
    assert_eq!(body, expected);
}

/// A summary with a label and two quantiles, by hand: `Summary{sample_count=1 (varint),
/// sample_sum=2 (double), quantile=3}`, `Quantile{quantile=1, value=2}`, an empty HELP kept.
#[test]
fn a_summary_is_encoded_as_derived_by_hand() {
    let summary = Summary {
        count: 2,
        sum: 0.5,
        quantiles: vec![
            Quantile {
                quantile: 0.5,
                value: 0.25,
            },
            Quantile {
                quantile: 0.9,
                value: 0.5,
            },
        ],
    };
    let family = Family::new("s", "", Kind::Summary).with(Metric::new(&[("a", "b")], summary));
    let (body, problems) = protobuf::to_vec(&[family]);
    assert!(problems.is_empty());
    let half = [0, 0, 0, 0, 0, 0, 0xe0, 0x3f];
    let quarter = [0, 0, 0, 0, 0, 0, 0xd0, 0x3f];
    let nine_tenths = [0xcd, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xec, 0x3f];
    let mut expected = vec![
        70, // the message's length
        0x0a, 1, b's', // 1: name
        0x12, 0, // 2: help, empty
        0x18, 2, // 3: type SUMMARY
        0x22, 61, // 4: metric
        0x0a, 6, 0x0a, 1, b'a', 0x12, 1, b'b', // 1: label {name=1, value=2}
        0x22, 51, // 4: summary
        0x08, 2,    // 1: sample_count
        0x11, // 2: sample_sum
    ];
    expected.extend(half);
    expected.extend([0x1a, 18, 0x09]); // 3: quantile {1: quantile
    expected.extend(half);
    expected.push(0x11); // 2: value
    expected.extend(quarter);
    expected.extend([0x1a, 18, 0x09]);
    expected.extend(nine_tenths);
    expected.push(0x11);
    expected.extend(half);
    assert_eq!(body, expected);
}

/// A native histogram with two spans, by hand: `Histogram{sample_count=1, sample_sum=2,
/// schema=5 (sint32), zero_threshold=6 (double), zero_count=7, positive_span=12,
/// positive_delta=13 (packed sint64)}`, `BucketSpan{offset=1 (sint32), length=2}`, in
/// `Metric{histogram=7}`.
#[test]
fn a_native_histogram_with_two_spans_is_encoded_as_derived_by_hand() {
    let histogram = Histogram {
        count: 5,
        sum: 3.5,
        buckets: Vec::new(),
        native: Some(Native {
            schema: 3,
            zero_threshold: 0.0,
            zero_count: 1,
            positive: NativeBuckets {
                spans: vec![
                    Span {
                        offset: -1,
                        length: 2,
                    },
                    Span {
                        offset: 2,
                        length: 1,
                    },
                ],
                counts: vec![1, 2, 1],
            },
            negative: NativeBuckets::default(),
        }),
    };
    let family = Family::new("n", "", Kind::Histogram).with(Metric::new(&[], histogram));
    let (body, problems) = protobuf::to_vec(&[family]);
    assert!(problems.is_empty());
    #[rustfmt::skip]
    let expected: &[u8] = &[
        52, // the message's length
        0x0a, 1, b'n', // 1: name
        0x12, 0, // 2: help
        0x18, 4, // 3: type HISTOGRAM
        0x22, 43, // 4: metric
            0x3a, 41, // 7: histogram
                0x08, 5, // 1: sample_count
                0x11, 0, 0, 0, 0, 0, 0, 0x0c, 0x40, // 2: sample_sum 3.5
                0x28, 6, // 5: schema 3, zigzag 6
                0x31, 0, 0, 0, 0, 0, 0, 0, 0, // 6: zero_threshold 0.0
                0x38, 1, // 7: zero_count
                0x62, 4, 0x08, 1, 0x10, 2, // 12: span {offset -1 (zigzag 1), length 2}
                0x62, 4, 0x08, 4, 0x10, 1, // 12: span {offset 2 (zigzag 4), length 1}
                0x6a, 3, 2, 2, 1, // 13: deltas 1, 1, -1, packed, zigzag 2, 2, 1
    ];
    assert_eq!(body, expected);
}

/// Each family is preceded by its own length, as a varint of as many bytes as it needs.
#[test]
fn each_family_is_preceded_by_its_length() {
    let long = "x".repeat(300);
    let families = [
        Family::new(long.as_str(), "", Kind::Gauge).with(Metric::new(&[], Value::Gauge(1.0))),
        Family::new("y", "", Kind::Gauge).with(Metric::new(&[], Value::Gauge(2.0))),
    ];
    let (body, _) = protobuf::to_vec(&families);
    // 303 (name: key, 2-byte length, 300) + 2 (help) + 2 (type) + 13 (metric) = 320, as a
    // varint 0xc0 0x02 (64 with the continuation bit, then 2 * 128).
    assert_eq!(body[..2], [0xc0, 0x02]);
    // 3 (name) + 2 (help) + 2 (type) + 13 (metric) = 20.
    assert_eq!(body.len(), 2 + 320 + 1 + 20);
    assert_eq!(body[322], 20);
    assert_eq!(decode_all(&body).len(), 2);
    // Appending keeps what the buffer held.
    let mut out = vec![0xff];
    assert!(protobuf::encode(&families[1..], &mut out).is_empty());
    assert_eq!(out[..2], [0xff, 20]);
}

/// The protobuf encoder leaves out what the text encoder leaves out, and says the same.
#[test]
fn the_same_is_left_out_as_in_text() {
    let families = vec![
        Family::new("bad name", "", Kind::Gauge).with(Metric::new(&[], Value::Gauge(1.0))),
        Family::new("mixed", "", Kind::Gauge)
            .with(Metric::new(&[], Value::Counter(1.0)))
            .with(Metric::new(&[], Value::Gauge(2.0))),
        Family::new("empty", "", Kind::Gauge),
    ];
    let (body, problems) = protobuf::to_vec(&families);
    let (_, text_problems) = text::to_string(&families);
    assert_eq!(problems, text_problems);
    assert_eq!(problems.len(), 2);
    let decoded = decode_all(&body);
    assert_eq!(decoded.len(), 1);
    assert_eq!(decoded[0].name(), "mixed");
    assert_eq!(decoded[0].metric.len(), 1);
}
