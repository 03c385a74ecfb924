//! Validation of metric and label names, per the Prometheus data model.
//!
//! The macro checks what it can at compile time; these checks cover names that only arrive at
//! run time (the environment, the builder, the hand-observation API), with the same rules.

// The rules themselves are shared with the attribute (crate `pushtimer-names`), so that the
// two can never disagree.
pub(crate) use pushtimer_names::{
    OWN_PREFIX, SECONDS_SUFFIX, TOTAL_SUFFIX, is_strictly_increasing, is_valid_bucket_bound,
    is_valid_constant_label_name, is_valid_label_name, is_valid_metric_name, is_valid_quantile,
};

/// Why a constant label name is refused, or `None` when it is fine.
pub(crate) fn constant_label_problem(name: &str) -> Option<&'static str> {
    if !is_valid_label_name(name) {
        Some("a label name must match [a-zA-Z_][a-zA-Z0-9_]* and must not start with `__`")
    } else if !is_valid_constant_label_name(name) {
        Some("`job`, `instance`, `quantile`, `le` and `outcome` are reserved")
    } else {
        None
    }
}

/// Why a grouping label name is refused, or `None` when it is fine: label name rules, and
/// `job` is already the job.
pub(crate) fn grouping_name_problem(name: &str) -> Option<&'static str> {
    if name == "job" || !is_valid_label_name(name) {
        Some(
            "a grouping label name must match [a-zA-Z_][a-zA-Z0-9_]*, not start with `__` and not be `job`",
        )
    } else {
        None
    }
}

/// The HELP text of a series nobody described: `Wall-clock time of <subject>, in seconds.`
/// A macro, so that `#[timed]` can put the same sentence into the function's rustdoc at
/// compile time (through `pushtimer::__private::default_help!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __pushtimer_default_help {
    ($($subject:expr),+ $(,)?) => {
        ::core::concat!("Wall-clock time of ", $($subject),+, ", in seconds.")
    };
}

/// [`__pushtimer_default_help!`] for a subject known only at run time.
pub(crate) fn default_help(subject: &str) -> String {
    format!(crate::__pushtimer_default_help!("{}"), subject)
}

/// Why a histogram's bucket bounds are refused, or `None` when they are fine (no bounds make
/// a summary).
pub(crate) fn buckets_problem(bounds: &[f64]) -> Option<&'static str> {
    let valid = bounds.iter().all(|b| is_valid_bucket_bound(*b)) && is_strictly_increasing(bounds);
    (!valid).then_some("bucket bounds must be finite, above zero and strictly increasing")
}

/// Why a summary's quantiles are refused, or `None` when they are fine (none at all is fine).
pub(crate) fn quantiles_problem(quantiles: &[f64]) -> Option<&'static str> {
    let valid =
        quantiles.iter().all(|q| is_valid_quantile(*q)) && is_strictly_increasing(quantiles);
    (!valid).then_some("quantiles must be between 0 and 1 (both excluded) and strictly increasing")
}

/// A counter's name: `name` with the `_total` suffix, not doubled.
pub(crate) fn total_name(name: &str) -> String {
    if name.ends_with(TOTAL_SUFFIX) {
        name.to_owned()
    } else {
        format!("{name}{TOTAL_SUFFIX}")
    }
}

/// Why a native histogram's schema is refused, or `None` when it is fine.
pub(crate) fn native_schema_problem(schema: i32) -> Option<&'static str> {
    (!(-4..=8).contains(&schema)).then_some("a native histogram's schema is from -4 to 8")
}

/// `name` with the `_seconds` suffix, not doubled.
pub(crate) fn seconds_name(name: &str) -> String {
    if name.ends_with(SECONDS_SUFFIX) {
        name.to_owned()
    } else {
        format!("{name}{SECONDS_SUFFIX}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        for good in ["a", "train_model", "ns:x", "_x", "A9"] {
            assert!(is_valid_metric_name(good), "{good}");
        }
        for bad in ["", "a-b", "a b", "9a", "é"] {
            assert!(!is_valid_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn label_names() {
        assert_eq!(constant_label_problem("stage"), None);
        assert_eq!(constant_label_problem("_x1"), None);
        for bad in [
            "", "__name", "a:b", "a-b", "job", "instance", "quantile", "le", "outcome",
        ] {
            assert!(constant_label_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn one_default_help_sentence() {
        assert_eq!(
            default_help("`queue_wait_seconds`"),
            crate::__pushtimer_default_help!("`queue_wait_seconds`")
        );
        assert_eq!(
            crate::__pushtimer_default_help!("one call of `", "m", "::f`"),
            "Wall-clock time of one call of `m::f`, in seconds."
        );
    }

    #[test]
    fn bucket_bounds() {
        assert_eq!(buckets_problem(&[]), None);
        assert_eq!(buckets_problem(&[0.1, 1.0]), None);
        for bad in [
            &[1.0, 1.0][..],
            &[1.0, 0.5],
            &[0.0],
            &[-1.0],
            &[f64::NAN],
            &[f64::INFINITY],
        ] {
            assert!(buckets_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn grouping_names() {
        assert_eq!(grouping_name_problem("instance"), None);
        for bad in ["job", "__x", "a-b", ""] {
            assert!(grouping_name_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn seconds_suffix_is_not_doubled() {
        assert_eq!(seconds_name("train"), "train_seconds");
        assert_eq!(seconds_name("train_seconds"), "train_seconds");
        assert_eq!(total_name("rows"), "rows_total");
        assert_eq!(total_name("rows_total"), "rows_total");
    }
}
