//! What the encoders leave out, decided in one place so that the text and the protobuf
//! encoders write the same series: a family whose name or label names would break the
//! format's syntax, a metric whose value is not of its family's kind, and a native histogram
//! no receiver could read.
//!
//! Only what would make a receiver refuse the whole push (or misread what follows) is
//! checked. What the `prometheus` crate's own encoder writes as it is (duplicate label names,
//! unsorted buckets, a `le` label of the user's own, a NaN) is written as it is here too.

use crate::model::family::{
    Family, Kind, Metric, NATIVE_SCHEMA_MAX, NATIVE_SCHEMA_MIN, Native, NativeBuckets, Value,
};

/// A family an encoder left out, or left some metrics of out, and why. Nothing else an
/// encoder does can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The family's name (as given, maybe not a valid name).
    pub(crate) family: String,
    /// Why, and how much was left out.
    pub(crate) why: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "metric family {:?} {}", self.family, self.why)
    }
}

/// The metrics of `family` the encoders write, and the problem if any were left out. A family
/// with nothing to write (no metrics, or none usable) gives no metrics: it is left out whole,
/// without its HELP and TYPE. A family without metrics is no problem (there is just nothing to
/// say about it).
pub(crate) fn usable(family: &Family) -> (Vec<&Metric>, Option<Problem>) {
    let problem = |why: String| {
        Some(Problem {
            family: family.name.clone(),
            why,
        })
    };
    if family.metrics.is_empty() {
        return (Vec::new(), None);
    }
    if !is_metric_name(&family.name) {
        let why = "is left out: its name is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)";
        return (Vec::new(), problem(why.to_owned()));
    }
    let mut first_reason = None;
    let mut usable = Vec::with_capacity(family.metrics.len());
    for metric in &family.metrics {
        match metric_problem(family.kind, metric) {
            None => usable.push(metric),
            Some(reason) => {
                first_reason.get_or_insert(reason);
            }
        }
    }
    let Some(reason) = first_reason else {
        return (usable, None);
    };
    let left_out = family.metrics.len().saturating_sub(usable.len());
    let why = if usable.is_empty() {
        format!("is left out: {reason}")
    } else {
        format!(
            "has {left_out} of its {} metrics left out, the first because {reason}",
            family.metrics.len()
        )
    };
    (usable, problem(why))
}

/// Why `metric` cannot be written in a family of `kind`, if it cannot.
fn metric_problem(kind: Kind, metric: &Metric) -> Option<String> {
    if let Some((name, _)) = metric.labels.iter().find(|(name, _)| !is_label_name(name)) {
        return Some(format!(
            "the label name {name:?} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"
        ));
    }
    if metric.value.kind() != kind {
        return Some(format!(
            "a metric holds a {} in a {} family",
            metric.value.kind().as_str(),
            kind.as_str()
        ));
    }
    match &metric.value {
        Value::Histogram(histogram) => histogram.native.as_ref().and_then(native_problem),
        _ => None,
    }
}

/// Why a receiver could not read `native`, if it could not.
fn native_problem(native: &Native) -> Option<String> {
    if !(NATIVE_SCHEMA_MIN..=NATIVE_SCHEMA_MAX).contains(&native.schema) {
        return Some(format!(
            "a native histogram has schema {}, outside {NATIVE_SCHEMA_MIN}..={NATIVE_SCHEMA_MAX}",
            native.schema
        ));
    }
    let threshold = native.zero_threshold;
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Some(format!(
            "a native histogram has the zero threshold {threshold}, not a finite number >= 0"
        ));
    }
    for (side, buckets) in [
        ("positive", &native.positive),
        ("negative", &native.negative),
    ] {
        if let Some(why) = buckets_problem(buckets) {
            return Some(format!("the {side} buckets of a native histogram {why}"));
        }
    }
    None
}

/// Why `buckets` are inconsistent, if they are.
fn buckets_problem(buckets: &NativeBuckets) -> Option<String> {
    if let Some(span) = buckets.spans.iter().skip(1).find(|span| span.offset < 0) {
        return Some(format!(
            "have a span after the first with the negative offset {} (spans overlap)",
            span.offset
        ));
    }
    let length = buckets
        .spans
        .iter()
        .fold(0u64, |sum, span| sum.saturating_add(u64::from(span.length)));
    // The last index must fit an i32 too, as receivers hold indexes in one.
    let mut end = 0i64;
    for (i, span) in buckets.spans.iter().enumerate() {
        let start = if i == 0 {
            i64::from(span.offset)
        } else {
            end.saturating_add(i64::from(span.offset))
        };
        end = start.saturating_add(i64::from(span.length));
    }
    if end.saturating_sub(1) > i64::from(i32::MAX) {
        return Some("have bucket indexes beyond 2^31".to_owned());
    }
    if length != buckets.counts.len() as u64 {
        return Some(format!(
            "have spans of {length} buckets in all but {} counts",
            buckets.counts.len()
        ));
    }
    None
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub(crate) fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub(crate) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
