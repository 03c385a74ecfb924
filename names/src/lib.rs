//! The naming rules of pushtimer's metrics and labels, per the Prometheus data model, in one
//! place: the `#[timed]` attribute checks what it can at compile time with these functions, and
//! the runtime checks names that only arrive at run time (the environment, the builder, the
//! hand-made summaries) with the same ones, so the two can never disagree.
//!
//! ```
//! assert!(pushtimer_names::is_valid_metric_name("train_model"));
//! assert!(!pushtimer_names::is_valid_label_name("__name"));
//! assert!(pushtimer_names::RESERVED_LABELS.contains(&"outcome"));
//! ```
#![forbid(unsafe_code)]
#![no_std]

/// Label names that belong to the Pushgateway's grouping key (`job`, `instance`), to a
/// summary's quantiles (`quantile`), to a histogram's buckets (`le`) or to a timed call's series
/// (`outcome`): a constant label with one of these names is refused (the gateway answers 400 to
/// a push holding one, and loses the whole group).
pub const RESERVED_LABELS: &[&str] = &["job", "instance", "quantile", "le", "outcome"];

/// The prefix of pushtimer's own metric families (`pushtimer_job_duration_seconds`, ...): a
/// timed function or hand-made series whose full name starts with it is refused, so it can never
/// collide with one of them.
pub const OWN_PREFIX: &str = "pushtimer_";

/// Suffix of every summary pushtimer creates (Prometheus base-unit naming).
pub const SECONDS_SUFFIX: &str = "_seconds";

/// The suffix every counter's name ends with (appended unless already there).
pub const TOTAL_SUFFIX: &str = "_total";

/// The HELP text of a counter nobody described is these two around its name (with its
/// suffix): the same sentence whether the counter is made by `count!` or `Counter::builder`,
/// so the two agree.
pub const COUNTER_HELP: [&str; 2] = ["Count of `", "` kept by the job."];

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for Prometheus' internal use).
pub fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// A constant label's name: a valid label name, and not one of [`RESERVED_LABELS`].
pub fn is_valid_constant_label_name(name: &str) -> bool {
    is_valid_label_name(name) && !RESERVED_LABELS.contains(&name)
}

/// A histogram's bucket bound, in seconds: finite and above zero (`+Inf` is added by itself).
pub fn is_valid_bucket_bound(bound: f64) -> bool {
    bound.is_finite() && bound > 0.0
}

/// A summary's quantile: between 0 and 1, both excluded.
pub fn is_valid_quantile(quantile: f64) -> bool {
    quantile > 0.0 && quantile < 1.0
}

/// Bounds of a histogram (or quantiles of a summary) must be strictly increasing.
pub fn is_strictly_increasing(values: &[f64]) -> bool {
    values
        .windows(2)
        .all(|pair| matches!(pair, [a, b] if a < b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        for good in ["a", "train_model", "ns:x", "_x", "A9", ":"] {
            assert!(is_valid_metric_name(good), "{good}");
        }
        for bad in ["", "a-b", "a b", "9a", "é", "a\n"] {
            assert!(!is_valid_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn label_names() {
        for good in ["stage", "_x1", "A"] {
            assert!(is_valid_constant_label_name(good), "{good}");
        }
        for bad in ["", "__name", "a:b", "a-b", "é", "9a"] {
            assert!(!is_valid_label_name(bad), "{bad}");
        }
        for reserved in RESERVED_LABELS {
            assert!(is_valid_label_name(reserved), "{reserved}");
            assert!(!is_valid_constant_label_name(reserved), "{reserved}");
        }
    }

    #[test]
    fn numbers() {
        assert!(is_valid_bucket_bound(1e-9) && is_valid_bucket_bound(14400.0));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(!is_valid_bucket_bound(bad), "{bad}");
        }
        assert!(is_valid_quantile(0.5) && is_valid_quantile(0.999));
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(!is_valid_quantile(bad), "{bad}");
        }
        assert!(is_strictly_increasing(&[]) && is_strictly_increasing(&[0.1, 1.0]));
        assert!(!is_strictly_increasing(&[1.0, 1.0]) && !is_strictly_increasing(&[1.0, f64::NAN]));
    }
}
