//! The model's own helpers: native buckets from indexed counts, deltas, sample names, what
//! is checked.

use proptest::prelude::*;

use crate::encode::tests::fixtures::native_histogram;
use crate::model::check::usable;
use crate::model::family::{
    DEFAULT_ZERO_THRESHOLD, Family, Kind, Metric, NativeBuckets, Span, Value,
};

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

/// Indexed counts become spans: sorted, counts of one index added, gaps of one or two empty
/// buckets kept inside a span as zeros, longer gaps a new span with its offset from the end of
/// the last.
#[test]
fn native_buckets_from_indexed_counts() {
    let buckets = NativeBuckets::from_indexed([(5, 1), (0, 2), (1, 3), (3, 1), (10, 4), (0, 1)]);
    assert_eq!(
        buckets,
        Some(NativeBuckets {
            spans: vec![span(0, 6), span(4, 1)],
            counts: vec![3, 3, 0, 1, 0, 1, 4],
        })
    );
    // A gap of exactly two stays in the span; of three, it does not.
    assert_eq!(
        NativeBuckets::from_indexed([(-3, 1), (0, 1)]).map(|b| b.spans),
        Some(vec![span(-3, 4)])
    );
    assert_eq!(
        NativeBuckets::from_indexed([(-3, 1), (1, 1)]).map(|b| b.spans),
        Some(vec![span(-3, 1), span(3, 1)])
    );
    assert_eq!(
        NativeBuckets::from_indexed([]),
        Some(NativeBuckets::default())
    );
    // Counts that would overflow saturate; indexes too far apart for an i32 offset are none.
    assert_eq!(
        NativeBuckets::from_indexed([(7, u64::MAX), (7, 1)]).map(|b| b.counts),
        Some(vec![u64::MAX])
    );
    assert_eq!(
        NativeBuckets::from_indexed([(i32::MIN, 1), (i32::MAX, 1)]),
        None
    );
    assert_eq!(
        NativeBuckets::from_indexed([(i32::MAX - 1, 1), (i32::MAX, 1)]).map(|b| b.spans),
        Some(vec![span(i32::MAX - 1, 2)])
    );
}

/// Deltas: the first count, then each difference to the one before, wrapping, so that any
/// counts come back when the deltas are summed (wrapping) again.
#[test]
fn deltas_of_counts() {
    let buckets = NativeBuckets {
        spans: vec![span(0, 4)],
        counts: vec![3, 3, 0, 1],
    };
    assert_eq!(buckets.deltas(), [3, 0, -3, 1]);
    let huge = NativeBuckets {
        spans: vec![span(0, 3)],
        counts: vec![u64::MAX, 0, 1 << 63],
    };
    assert_eq!(huge.deltas(), [-1, 1, i64::MIN]);
    // A difference beyond what an i64 holds wraps too (it never overflows).
    let wide = NativeBuckets {
        spans: vec![span(0, 3)],
        counts: vec![1, 1 << 63, 0],
    };
    assert_eq!(wide.deltas(), [1, i64::MAX, i64::MIN]);
    assert!(NativeBuckets::default().deltas().is_empty());
}

proptest! {
    /// Any indexed counts: the spans hold every count at its index, and nothing else but zeros.
    #[test]
    fn from_indexed_keeps_every_count_at_its_index(
        pairs in prop::collection::vec((-300i32..300, 1u64..1000), 0..40)
    ) {
        let buckets = NativeBuckets::from_indexed(pairs.clone()).expect("indexes close together");
        let mut expected = std::collections::BTreeMap::new();
        for (index, count) in pairs {
            *expected.entry(index).or_insert(0u64) += count;
        }
        let mut got = std::collections::BTreeMap::new();
        let mut counts = buckets.counts.iter();
        let mut index = 0i32;
        for (i, span) in buckets.spans.iter().enumerate() {
            index = if i == 0 { span.offset } else { index + span.offset };
            prop_assert!(i == 0 || span.offset > 2, "a gap of {} left as a new span", span.offset);
            for _ in 0..span.length {
                let count = *counts.next().expect("a count per bucket");
                if count > 0 {
                    got.insert(index, count);
                }
                index += 1;
            }
        }
        prop_assert!(counts.next().is_none());
        prop_assert_eq!(got, expected);
        // And the deltas sum back to the counts.
        let mut sum = 0u64;
        let summed: Vec<u64> = buckets.deltas().iter().map(|&d| { sum = sum.wrapping_add(d as u64); sum }).collect();
        prop_assert_eq!(summed, buckets.counts);
    }
}

/// The names a family's samples go by, for the collision check.
#[test]
fn sample_names() {
    let names = |kind| Family::new("x", "", kind).sample_names();
    assert_eq!(names(Kind::Counter), ["x"]);
    assert_eq!(names(Kind::Gauge), ["x"]);
    assert_eq!(names(Kind::Untyped), ["x"]);
    assert_eq!(names(Kind::Summary), ["x", "x_sum", "x_count"]);
    assert_eq!(
        names(Kind::Histogram),
        ["x", "x_bucket", "x_sum", "x_count"]
    );
}

/// The names a family's samples go by are exactly the names the text encoder writes them under
/// (and the family's own name), for a family of each kind: a user's summary or histogram is
/// matched against ours by all its samples.
#[test]
fn sample_names_are_the_names_the_text_format_writes() {
    use crate::model::family::{Bucket, Histogram, Quantile, Summary};
    let values = [
        Value::Counter(1.0),
        Value::Gauge(1.0),
        Value::Untyped(1.0),
        Value::Summary(Summary {
            count: 1,
            sum: 1.0,
            quantiles: vec![Quantile {
                quantile: 0.5,
                value: 1.0,
            }],
        }),
        Value::Histogram(Histogram {
            count: 1,
            sum: 1.0,
            buckets: vec![Bucket {
                upper_bound: 1.0,
                cumulative_count: 1,
            }],
            native: None,
        }),
    ];
    for value in values {
        let kind = value.kind();
        let family = Family::new("u", "h", kind).with(Metric::new(&[("a", "1")], value));
        let (text, problems) = crate::encode::text::to_string(std::slice::from_ref(&family));
        assert!(problems.is_empty(), "{problems:?}");
        let mut written: Vec<String> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(|line| line.split(['{', ' ']).next().unwrap_or("").to_owned())
            .collect();
        written.push(family.name.clone());
        written.sort();
        written.dedup();
        let mut names = family.sample_names();
        names.sort();
        assert_eq!(names, written, "{kind:?}: {text}");
    }
}

/// Whether a family needs the protobuf format to be carried whole.
#[test]
fn has_native_histogram() {
    let classic = Family::new("h", "", Kind::Histogram).with(Metric::new(
        &[],
        Value::Histogram(crate::model::family::Histogram::default()),
    ));
    assert!(!classic.has_native_histogram());
    assert!(
        classic
            .clone()
            .with(Metric::new(&[], native_histogram(false)))
            .has_native_histogram()
    );
    assert!(!Family::new("c", "", Kind::Counter).has_native_histogram());
}

/// What is checked of a native histogram: schema range, zero threshold, spans that do not
/// overlap, as many counts as the spans have buckets, indexes within an i32.
#[test]
fn impossible_native_histograms_are_left_out() {
    let problem = |change: &dyn Fn(&mut crate::model::family::Native)| {
        let mut histogram = native_histogram(true);
        if let Some(native) = histogram.native.as_mut() {
            change(native);
        }
        let family = Family::new("n", "", Kind::Histogram).with(Metric::new(&[], histogram));
        let (metrics, problem) = usable(&family);
        assert!(metrics.is_empty() == problem.is_some());
        problem.map(|p| p.why)
    };
    assert_eq!(problem(&|_| {}), None);
    for schema in [-4, 0, 8] {
        assert_eq!(problem(&|n| n.schema = schema), None);
    }
    for schema in [-5, 9, i32::MIN] {
        assert!(problem(&|n| n.schema = schema).is_some_and(|w| w.contains("schema")));
    }
    assert_eq!(problem(&|n| n.zero_threshold = 0.0), None);
    assert_eq!(
        problem(&|n| n.zero_threshold = DEFAULT_ZERO_THRESHOLD),
        None
    );
    for threshold in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(
            problem(&|n| n.zero_threshold = threshold)
                .is_some_and(|w| w.contains("zero threshold"))
        );
    }
    assert!(
        problem(&|n| n.positive.counts.push(1)).is_some_and(|w| w.contains("positive buckets")
            && w.contains("spans of 3 buckets in all but 4 counts"))
    );
    assert!(problem(&|n| n.negative.counts.clear()).is_some_and(|w| w.contains("negative")));
    assert!(problem(&|n| n.positive.spans[1].offset = -1).is_some_and(|w| w.contains("overlap")));
    // The first span may start anywhere an i32 reaches, and only there.
    assert_eq!(problem(&|n| n.positive.spans[0].offset = i32::MIN), None);
    assert!(
        problem(&|n| {
            n.positive.spans[0].offset = i32::MAX;
        })
        .is_some_and(|w| w.contains("beyond 2^31"))
    );
}

/// A family without metrics is nothing to report; labels are checked on every metric.
#[test]
fn usable_metrics() {
    let empty = Family::new("e", "", Kind::Gauge);
    let (metrics, problem) = usable(&empty);
    assert!(metrics.is_empty() && problem.is_none());
    let family = Family::new("g", "", Kind::Gauge)
        .with(Metric::new(&[("_ok9", "")], Value::Gauge(1.0)))
        .with(Metric::new(&[("9no", "")], Value::Gauge(1.0)))
        .with(Metric::new(&[("", "")], Value::Gauge(1.0)))
        .with(Metric::new(&[("a:b", "")], Value::Gauge(1.0)));
    let (metrics, problem) = usable(&family);
    assert_eq!(metrics.len(), 1);
    assert!(problem.is_some_and(|p| p.why.starts_with("has 3 of its 4 metrics left out")));
    for name in ["a", "_", ":", "a:b_9", "ns:sub_total"] {
        assert!(crate::model::check::is_metric_name(name), "{name}");
    }
    for name in ["", "9a", "a-b", "a b", "é", "a\n"] {
        assert!(!crate::model::check::is_metric_name(name), "{name}");
    }
}
