//! Any input at all, the nonsensical included: no encoder panics, both leave out the same,
//! and what the protobuf encoder writes decodes.

use proptest::prelude::*;

use super::protobuf::decode_all;
use crate::encode::{protobuf, text};
use crate::model::family::{
    Bucket, Family, Histogram, Kind, Metric, Native, NativeBuckets, Quantile, Span, Summary, Value,
};

fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-zA-Z_:][a-zA-Z0-9_:]{0,6}",
        1 => any::<String>(),
        1 => Just(String::new()),
    ]
}

fn any_kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(vec![
        Kind::Counter,
        Kind::Gauge,
        Kind::Untyped,
        Kind::Summary,
        Kind::Histogram,
    ])
}

fn any_buckets() -> impl Strategy<Value = NativeBuckets> {
    let span = (any::<i32>(), prop_oneof![0u32..4, any::<u32>()])
        .prop_map(|(offset, length)| Span { offset, length });
    (
        prop::collection::vec(span, 0..3),
        prop::collection::vec(any::<u64>(), 0..6),
    )
        .prop_map(|(spans, counts)| NativeBuckets { spans, counts })
}

fn any_native() -> impl Strategy<Value = Option<Native>> {
    let native = (
        prop_oneof![-6i32..10, any::<i32>()],
        any::<f64>(),
        any::<u64>(),
        any_buckets(),
        any_buckets(),
    )
        .prop_map(
            |(schema, zero_threshold, zero_count, positive, negative)| Native {
                schema,
                zero_threshold,
                zero_count,
                positive,
                negative,
            },
        );
    prop::option::of(native)
}

fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>().prop_map(Value::Counter),
        any::<f64>().prop_map(Value::Gauge),
        any::<f64>().prop_map(Value::Untyped),
        (
            any::<u64>(),
            any::<f64>(),
            prop::collection::vec(any::<(f64, f64)>(), 0..3)
        )
            .prop_map(|(count, sum, quantiles)| Value::Summary(Summary {
                count,
                sum,
                quantiles: quantiles
                    .into_iter()
                    .map(|(quantile, value)| Quantile { quantile, value })
                    .collect(),
            })),
        (
            any::<u64>(),
            any::<f64>(),
            prop::collection::vec(any::<(f64, u64)>(), 0..4),
            any_native()
        )
            .prop_map(|(count, sum, buckets, native)| Value::Histogram(Histogram {
                count,
                sum,
                buckets: buckets
                    .into_iter()
                    .map(|(upper_bound, cumulative_count)| Bucket {
                        upper_bound,
                        cumulative_count,
                    })
                    .collect(),
                native,
            })),
    ]
}

fn any_metric() -> impl Strategy<Value = Metric> {
    let labels = prop::collection::vec((any_name(), any::<String>()), 0..3);
    (labels, any_value(), any::<Option<i64>>()).prop_map(|(labels, value, timestamp_ms)| Metric {
        labels,
        value,
        timestamp_ms,
    })
}

fn any_family() -> impl Strategy<Value = Family> {
    (
        any_name(),
        any::<String>(),
        any_kind(),
        prop::collection::vec(any_metric(), 0..4),
    )
        .prop_map(|(name, help, kind, metrics)| Family {
            name,
            help,
            kind,
            metrics,
        })
}

proptest! {
    /// Whatever the families hold, both encoders finish, report the same problems, and write
    /// the same families: the text's TYPE lines are the protobuf's messages, which decode.
    #[test]
    fn any_input_is_encoded_without_panicking(
        families in prop::collection::vec(any_family(), 0..5)
    ) {
        let (written, text_problems) = text::to_string(&families);
        let (body, problems) = protobuf::to_vec(&families);
        prop_assert_eq!(&problems, &text_problems);
        let decoded = decode_all(&body);
        let typed: Vec<&str> = written
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE "))
            .filter_map(|line| line.rsplit_once(' ').map(|(name, _)| name))
            .collect();
        let names: Vec<&str> = decoded.iter().map(|family| family.name()).collect();
        prop_assert_eq!(typed, names);
        // Every problem is about a family given.
        for problem in &problems {
            prop_assert!(families.iter().any(|family| family.name == problem.family));
        }
    }
}
