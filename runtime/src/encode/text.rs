//! The text exposition format 0.0.4: what the Pushgateway, the node exporter's textfile
//! collector and a Prometheus scrape take; the one text encoder of the crate ([`render`](crate::render),
//! the gateway, the textfile, `/metrics`).
//!
//! Byte for byte what the `prometheus` crate's `TextEncoder` (0.14), which pushtimer encoded
//! with before, writes for the classic types, so that moving to this encoder changed nothing
//! on the wire, with one exception: infinities. That encoder writes them as Rust prints them, `inf` and `-inf`; this one as Go
//! does, `+Inf` and `-Inf`, the spelling of the format's documentation (for a value, both
//! parse the same in every Go parser; for a `le` or `quantile` label, only `+Inf` is the
//! bucket the format requires).
//!
//! - `# HELP name text` when the HELP text is not empty, with `\` written `\\` and a line feed
//!   `\n`; then `# TYPE name type`, always (`untyped` too, which that encoder cannot write).
//! - One line per sample ([`samples`]): `name{label="value",...} value`, no braces without
//!   labels; label values with `\`, `"` and a line feed escaped as `\\`, `\"`, `\n`; then a
//!   space and the timestamp in milliseconds, if the metric has one.
//! - Numbers as [`write_float`] writes them.
//! - A native histogram shows what the Pushgateway's own text shows: its classic buckets if it
//!   has any, the `+Inf` bucket, `_sum` and `_count`.
//! - Families in the order given; one with nothing to write (no metrics, or none usable, see
//!   [`check::usable`]) is left out whole, HELP and TYPE included.

use std::fmt::Write as _;

use crate::model::check::{self, Problem};
use crate::model::family::{Family, Metric};
use crate::model::samples::{Sample, samples};

/// The `Content-Type` of this format (always UTF-8: the encoder writes a `String`).
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Appends the text exposition of `families` to `out`; returns what was left out, and why.
pub(crate) fn encode(families: &[Family], out: &mut String) -> Vec<Problem> {
    let mut problems = Vec::new();
    for family in families {
        let (metrics, problem) = check::usable(family);
        problems.extend(problem);
        if metrics.is_empty() {
            continue;
        }
        if !family.help.is_empty() {
            out.push_str("# HELP ");
            out.push_str(&family.name);
            out.push(' ');
            escape(out, &family.help, false);
            out.push('\n');
        }
        out.push_str("# TYPE ");
        out.push_str(&family.name);
        out.push(' ');
        out.push_str(family.kind.as_str());
        out.push('\n');
        for metric in metrics {
            for sample in samples(metric) {
                write_sample(out, &family.name, metric, &sample);
            }
        }
    }
    problems
}

/// The text exposition of `families`, and what was left out.
pub(crate) fn to_string(families: &[Family]) -> (String, Vec<Problem>) {
    let mut out = String::new();
    let problems = encode(families, &mut out);
    (out, problems)
}

/// Appends a number as this format writes it: `+Inf`, `-Inf`, `NaN`, and any other value as
/// Rust's `Display` writes an `f64`, the shortest digits that read back as the same number,
/// never with an exponent (`1`, `0.25`, `1000000`, `0.0000001`), as the `prometheus` crate's
/// encoder does. Go's parser reads them all (`strconv.ParseFloat`), to the same `f64`. Go's
/// own encoder writes large and small numbers with an exponent (`1e+06`); the value is the
/// same. Remote write writes its `le` and `quantile` values with it too.
pub(crate) fn write_float(out: &mut String, value: f64) {
    if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        // Writing to a `String` cannot fail. NaN (of either sign) is written `NaN`.
        let _ = write!(out, "{value}");
    }
}

/// [`write_float`] into a `String` of its own (the tests' way of saying what is written).
#[cfg(test)]
pub(crate) fn float(value: f64) -> String {
    let mut out = String::new();
    write_float(&mut out, value);
    out
}

/// One sample line of `metric` in family `name`.
fn write_sample(out: &mut String, name: &str, metric: &Metric, sample: &Sample) {
    out.push_str(name);
    out.push_str(sample.suffix);
    if !metric.labels.is_empty() || sample.label.is_some() {
        let mut separator = '{';
        for (label, value) in &metric.labels {
            out.push(separator);
            out.push_str(label);
            out.push_str("=\"");
            escape(out, value, true);
            out.push('"');
            separator = ',';
        }
        if let Some((label, number)) = sample.label {
            out.push(separator);
            out.push_str(label);
            out.push_str("=\"");
            // A number needs no escaping.
            write_float(out, number);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    write_float(out, sample.value);
    if let Some(timestamp) = metric.timestamp_ms {
        let _ = write!(out, " {timestamp}");
    }
    out.push('\n');
}

/// Appends `text` with `\` and line feeds escaped, and `"` too when `quote` (a label value;
/// a HELP text keeps its quotes).
fn escape(out: &mut String, text: &str, quote: bool) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}
