//! The text encoder against the `prometheus` crate's `TextEncoder`, byte for byte, and what
//! that encoder cannot write (untyped values, native histograms, infinities as Go writes them).

use prometheus::proto;
use proptest::prelude::*;

use super::fixtures::{
    AWKWARD, model_families, native_histogram, prometheus_text, proto_counter, proto_families,
    proto_family, proto_gauge, proto_histogram, proto_metric, proto_summary, with_go_infinities,
};
use crate::encode::text::{self, float};
use crate::model::convert::from_prometheus;
use crate::model::family::{Family, Kind, Metric, Value};

/// Families of every classic type (awkward labels and HELP, special floats, empty label sets,
/// 1,000 metrics) come out as the `prometheus` crate writes them, through the conversion and
/// built by hand alike.
#[test]
fn every_classic_type_is_written_as_the_prometheus_crate_writes_it() {
    let families = proto_families();
    let expected = with_go_infinities(&prometheus_text(&families));
    let (converted, problems) = text::to_string(&from_prometheus(&families));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(converted, expected);
    let (by_hand, problems) = text::to_string(&model_families());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(by_hand, expected);
    // The same families (compared as written by Debug, where NaN equals NaN).
    let (converted, by_hand) = (from_prometheus(&families), model_families());
    assert!(
        format!("{converted:?}") == format!("{by_hand:?}"),
        "the conversion differs from the families built by hand"
    );
    // The comparison means something: every family and every awkward value is in it.
    assert!(expected.contains("# HELP awkward_total Back\\\\slash and new\\nline"));
    assert!(
        expected.contains("awkward_total{a=\"all \\\\ \\\" \\n of them \\\"\\\\\\\"\",z=\"1\"} 7")
    );
    assert!(expected.contains("many_total{shard=\"999\"} 499.5\n"));
    assert!(expected.contains("bare 7\n"));
    assert_eq!(expected.matches("# TYPE ").count(), 6);
}

/// The one difference on purpose: infinities as Go writes them, in values and in the `le` and
/// `quantile` labels; NaN and everything else as the `prometheus` crate writes it.
#[test]
fn numbers_are_written_as_the_prometheus_crate_writes_them_but_infinities() {
    for (value, written) in [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (-2.5, "-2.5"),
        (0.1, "0.1"),
        (1e6, "1000000"),
        (1.5e-7, "0.00000015"),
        (u64::MAX as f64, "18446744073709552000"),
        (f64::NAN, "NaN"),
        (-f64::NAN, "NaN"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
    ] {
        assert_eq!(float(value), written, "{value:?}");
        if value.is_finite() || value.is_nan() {
            assert_eq!(
                written,
                value.to_string(),
                "as Rust's Display writes {value:?}"
            );
        }
    }
    let families = vec![
        proto_family(
            "g",
            "",
            proto::MetricType::GAUGE,
            vec![
                proto_metric(&[], proto_gauge(f64::INFINITY)),
                proto_metric(&[("a", "inf")], proto_gauge(f64::NEG_INFINITY)),
            ],
        ),
        proto_family(
            "s",
            "",
            proto::MetricType::SUMMARY,
            vec![proto_metric(
                &[],
                proto_summary(1, f64::INFINITY, &[(f64::INFINITY, f64::NEG_INFINITY)]),
            )],
        ),
        proto_family(
            "h",
            "",
            proto::MetricType::HISTOGRAM,
            vec![proto_metric(
                &[],
                proto_histogram(
                    2,
                    f64::NEG_INFINITY,
                    &[(f64::NEG_INFINITY, 1), (f64::INFINITY, 2)],
                ),
            )],
        ),
    ];
    // The conversion drops the explicit +Inf bucket: the model's is always the count.
    let converted = from_prometheus(&families);
    let Value::Histogram(h) = &converted[2].metrics[0].value else {
        panic!("a histogram: {converted:?}");
    };
    assert_eq!(h.buckets.len(), 1, "{h:?}");
    assert_eq!(h.buckets[0].upper_bound, f64::NEG_INFINITY);
    let (written, problems) = text::to_string(&converted);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        written,
        "# TYPE g gauge\n\
         g +Inf\n\
         g{a=\"inf\"} -Inf\n\
         # TYPE s summary\n\
         s{quantile=\"+Inf\"} -Inf\n\
         s_sum +Inf\n\
         s_count 1\n\
         # TYPE h histogram\n\
         h_bucket{le=\"-Inf\"} 1\n\
         h_bucket{le=\"+Inf\"} 2\n\
         h_sum -Inf\n\
         h_count 2\n"
    );
    // The prometheus crate writes the same with Rust's spelling (and its explicit +Inf bucket
    // counts the same here: the model's +Inf bucket is always the count).
    assert_eq!(with_go_infinities(&prometheus_text(&families)), written);
    assert!(prometheus_text(&families).contains("h_bucket{le=\"inf\"} 2\n"));
}

/// A timestamp is written after the value, as the prometheus crate writes it (0 is none there).
#[test]
fn timestamps_are_written_after_the_value() {
    let families = vec![proto_family(
        "t",
        "",
        proto::MetricType::COUNTER,
        vec![
            proto_metric(&[], |m| {
                proto_counter(f64::INFINITY)(m);
                m.set_timestamp_ms(-5);
            }),
            proto_metric(&[("a", "b")], |m| {
                proto_counter(2.0)(m);
                m.set_timestamp_ms(1_700_000_000_123);
            }),
            proto_metric(&[("a", "c")], proto_counter(3.0)),
        ],
    )];
    let (written, _) = text::to_string(&from_prometheus(&families));
    assert_eq!(
        written,
        "# TYPE t counter\nt +Inf -5\nt{a=\"b\"} 2 1700000000123\nt{a=\"c\"} 3\n"
    );
    assert_eq!(with_go_infinities(&prometheus_text(&families)), written);
}

/// Untyped values, which the prometheus crate's encoder cannot write (it panics), are written
/// as Go's writes them.
#[test]
fn untyped_values_are_written() {
    let family = Family::new("legacy", "Old \"style\".", Kind::Untyped)
        .with(Metric::new(&[], Value::Untyped(1.5)))
        .with(Metric::new(&[("path", "/a\\b")], Value::Untyped(f64::NAN)));
    let (written, problems) = text::to_string(&[family]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        written,
        "# HELP legacy Old \"style\".\n# TYPE legacy untyped\nlegacy 1.5\nlegacy{path=\"/a\\\\b\"} NaN\n"
    );
    // And from the prometheus crate's data model too.
    let proto = proto_family(
        "legacy",
        "",
        proto::MetricType::UNTYPED,
        vec![proto_metric(&[], |m| {
            #[allow(deprecated)]
            m.set_untyped({
                let mut untyped = proto::Untyped::default();
                untyped.set_value(-3.0);
                untyped
            });
        })],
    );
    let (written, _) = text::to_string(&from_prometheus(&[proto]));
    assert_eq!(written, "# TYPE legacy untyped\nlegacy -3\n");
}

/// A native histogram in text is what the Pushgateway shows of one: its classic buckets if it
/// has any, then the +Inf bucket, the sum and the count.
#[test]
fn a_native_histogram_is_written_as_the_pushgateway_shows_it() {
    let family = Family::new("rpc_seconds", "RPC time.", Kind::Histogram)
        .with(Metric::new(&[("kind", "native")], native_histogram(false)))
        .with(Metric::new(&[("kind", "both")], native_histogram(true)));
    let (written, problems) = text::to_string(&[family]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        written,
        "# HELP rpc_seconds RPC time.\n\
         # TYPE rpc_seconds histogram\n\
         rpc_seconds_bucket{kind=\"native\",le=\"+Inf\"} 9\n\
         rpc_seconds_sum{kind=\"native\"} 4.25\n\
         rpc_seconds_count{kind=\"native\"} 9\n\
         rpc_seconds_bucket{kind=\"both\",le=\"0.5\"} 3\n\
         rpc_seconds_bucket{kind=\"both\",le=\"2\"} 8\n\
         rpc_seconds_bucket{kind=\"both\",le=\"+Inf\"} 9\n\
         rpc_seconds_sum{kind=\"both\"} 4.25\n\
         rpc_seconds_count{kind=\"both\"} 9\n"
    );
}

/// What would break a receiver is left out and told, the rest written: a family without
/// metrics silently (the prometheus crate's encoder fails on it), bad names, a value of another
/// kind than its family, an impossible native histogram.
#[test]
fn what_a_receiver_could_not_read_is_left_out_and_told() {
    let mut bad_native = native_histogram(false);
    if let Some(native) = bad_native.native.as_mut() {
        native.schema = 9;
    }
    let families = vec![
        Family::new("empty", "Nothing yet.", Kind::Counter),
        Family::new("", "No name.", Kind::Gauge).with(Metric::new(&[], Value::Gauge(1.0))),
        Family::new("bad name", "", Kind::Gauge).with(Metric::new(&[], Value::Gauge(1.0))),
        Family::new("bad_label", "", Kind::Gauge)
            .with(Metric::new(&[("ok", "1")], Value::Gauge(1.0)))
            .with(Metric::new(&[("not ok", "2")], Value::Gauge(2.0))),
        Family::new("mixed_total", "", Kind::Counter)
            .with(Metric::new(&[], Value::Gauge(1.0)))
            .with(Metric::new(&[("a", "b")], Value::Counter(2.0))),
        Family::new("native", "", Kind::Histogram).with(Metric::new(&[], bad_native)),
        Family::new("fine", "", Kind::Gauge).with(Metric::new(&[], Value::Gauge(3.0))),
    ];
    let (written, problems) = text::to_string(&families);
    assert_eq!(
        written,
        "# TYPE bad_label gauge\nbad_label{ok=\"1\"} 1\n\
         # TYPE mixed_total counter\nmixed_total{a=\"b\"} 2\n\
         # TYPE fine gauge\nfine 3\n"
    );
    let told: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(told.len(), 5, "{told:#?}");
    assert!(
        told[0].starts_with("metric family \"\" is left out: its name"),
        "{told:#?}"
    );
    assert!(
        told[1].starts_with("metric family \"bad name\" is left out"),
        "{told:#?}"
    );
    assert!(
        told[2].contains("has 1 of its 2 metrics left out")
            && told[2].contains("\"not ok\" is not a label name"),
        "{told:#?}"
    );
    assert!(
        told[3].contains("a metric holds a gauge in a counter family"),
        "{told:#?}"
    );
    assert!(
        told[4].contains("\"native\" is left out") && told[4].contains("schema 9"),
        "{told:#?}"
    );
}

/// Appending to a buffer that already holds text keeps it.
#[test]
fn encode_appends() {
    let mut out = String::from("# before\n");
    let problems = text::encode(
        &[Family::new("x", "", Kind::Gauge).with(Metric::new(&[], Value::Gauge(1.0)))],
        &mut out,
    );
    assert!(problems.is_empty());
    assert_eq!(out, "# before\n# TYPE x gauge\nx 1\n");
}

/// Any float, the special ones often.
fn any_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        1 => prop::sample::select(super::fixtures::SPECIAL_FLOATS.to_vec()),
        1 => (0u32..10_000).prop_map(f64::from),
    ]
}

/// Any text, awkward characters often.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        1 => prop::sample::select(AWKWARD.to_vec()).prop_map(str::to_owned),
        1 => "[a\\\\\"\n ]{0,6}",
    ]
}

fn any_labels() -> impl Strategy<Value = Vec<(String, String)>> {
    // Never `le`: the user's own `le="inf"` would be mistaken for the crate's bucket label
    // by `with_go_infinities`.
    let name = "[a-zA-Z_][a-zA-Z0-9_]{0,4}".prop_filter("not le", |name: &String| name != "le");
    prop::collection::vec((name, any_text()), 0..4)
}

/// A metric of `kind` in the prometheus crate's model, maybe with a timestamp.
fn any_proto_metric(kind: proto::MetricType) -> impl Strategy<Value = proto::Metric> {
    let count = prop_oneof![any::<u64>(), 0u64..1000];
    let value = (
        any_float(),
        count,
        any_float(),
        prop::collection::vec((any_float(), any_float()), 0..4),
    );
    let buckets = (
        prop::collection::vec((any_float(), any::<u64>()), 0..5),
        any::<bool>(),
    );
    let timestamp = prop_oneof![3 => Just(0i64), 1 => any::<i64>()];
    (any_labels(), value, buckets, timestamp).prop_map(
        move |(labels, (float, count, sum, quantiles), (mut buckets, explicit_inf), timestamp)| {
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            // The crate's histograms have finite bounds; a collector's may end in +Inf, then
            // with the count (as the format requires).
            buckets.retain(|(bound, _)| *bound != f64::INFINITY);
            if explicit_inf {
                buckets.push((f64::INFINITY, count));
            }
            let mut metric = match kind {
                proto::MetricType::COUNTER => proto_metric(&pairs, proto_counter(float)),
                proto::MetricType::GAUGE => proto_metric(&pairs, proto_gauge(float)),
                proto::MetricType::SUMMARY => {
                    proto_metric(&pairs, proto_summary(count, sum, &quantiles))
                }
                _ => proto_metric(&pairs, proto_histogram(count, sum, &buckets)),
            };
            metric.set_timestamp_ms(timestamp);
            metric
        },
    )
}

fn any_proto_family() -> impl Strategy<Value = proto::MetricFamily> {
    use proto::MetricType::{COUNTER, GAUGE, HISTOGRAM, SUMMARY};
    let kind = prop::sample::select(vec![COUNTER, GAUGE, SUMMARY, HISTOGRAM]);
    (kind, "m_[a-zA-Z0-9_:]{0,8}", any_text()).prop_flat_map(|(kind, name, help)| {
        prop::collection::vec(any_proto_metric(kind), 1..5)
            .prop_map(move |metrics| proto_family(&name, &help, kind, metrics))
    })
}

proptest! {
    /// Random families of every classic type: the same bytes as the prometheus crate's
    /// encoder (infinities aside), and the conversion loses nothing the text shows.
    #[test]
    fn random_families_are_written_as_the_prometheus_crate_writes_them(
        families in prop::collection::vec(any_proto_family(), 0..4)
    ) {
        let expected = with_go_infinities(&prometheus_text(&families));
        let (written, problems) = text::to_string(&from_prometheus(&families));
        prop_assert!(problems.is_empty(), "{:?}", problems);
        prop_assert_eq!(written, expected);
    }
}
