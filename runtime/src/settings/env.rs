//! The settings' names and how their text is read: the environment variables, their defaults
//! and bounds, and the parsers for durations, booleans and `name=value` lists.
//!
//! A leaf module: everything else that names a variable (in a message, say) takes the name from
//! here, and nothing here depends on the rest of the crate.

use std::time::Duration;

/// `PUSHGATEWAY_URL`: base URL of the Pushgateway.
pub(crate) const URL: &str = "PUSHGATEWAY_URL";
/// `PUSHGATEWAY_JOB`: the `job` grouping label.
pub(crate) const JOB: &str = "PUSHGATEWAY_JOB";
/// `PUSHGATEWAY_GROUPING`: extra grouping labels.
pub(crate) const GROUPING: &str = "PUSHGATEWAY_GROUPING";
/// `PUSHGATEWAY_TIMEOUT`: the deadline of one push.
pub(crate) const TIMEOUT: &str = "PUSHGATEWAY_TIMEOUT";
/// `PUSHGATEWAY_PUSH_INTERVAL`: how often the background thread looks for changes.
pub(crate) const PUSH_INTERVAL: &str = "PUSHGATEWAY_PUSH_INTERVAL";
/// `PUSHGATEWAY_METHOD`: `put` or `post`.
pub(crate) const METHOD: &str = "PUSHGATEWAY_METHOD";
/// `PUSHGATEWAY_DELETE_ON_EXIT`: delete the group at exit.
pub(crate) const DELETE_ON_EXIT: &str = "PUSHGATEWAY_DELETE_ON_EXIT";
/// `PUSHGATEWAY_CA_FILE`: the CAs trusted for the gateway.
pub(crate) const CA_FILE: &str = "PUSHGATEWAY_CA_FILE";
/// `PUSHGATEWAY_CLIENT_CERT_FILE`: the client certificate (mutual TLS).
pub(crate) const CLIENT_CERT_FILE: &str = "PUSHGATEWAY_CLIENT_CERT_FILE";
/// `PUSHGATEWAY_CLIENT_KEY_FILE`: its key.
pub(crate) const CLIENT_KEY_FILE: &str = "PUSHGATEWAY_CLIENT_KEY_FILE";
/// `PUSHGATEWAY_USERNAME`: basic auth user.
pub(crate) const USERNAME: &str = "PUSHGATEWAY_USERNAME";
/// `PUSHGATEWAY_PASSWORD`: basic auth password.
pub(crate) const PASSWORD: &str = "PUSHGATEWAY_PASSWORD";
/// `PUSHGATEWAY_BEARER_TOKEN_FILE`: a file holding a bearer token.
pub(crate) const BEARER_TOKEN_FILE: &str = "PUSHGATEWAY_BEARER_TOKEN_FILE";
/// `PUSHTIMER_REMOTE_WRITE_URL`: a Prometheus remote-write endpoint.
pub(crate) const REMOTE_WRITE_URL: &str = "PUSHTIMER_REMOTE_WRITE_URL";

/// The variables that say where a server is and how to reach it safely. The Pushgateway and
/// the remote-write endpoint each have their own: they are often different servers, run by
/// different teams, and one's credentials must never be sent to the other.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ServerVariables {
    /// What the server is, in messages: "the gateway".
    pub(crate) server: &'static str,
    pub(crate) url: &'static str,
    pub(crate) ca_file: &'static str,
    pub(crate) client_cert_file: &'static str,
    pub(crate) client_key_file: &'static str,
    pub(crate) username: &'static str,
    pub(crate) password: &'static str,
    pub(crate) bearer_token_file: &'static str,
}

/// The Pushgateway's variables.
pub(crate) const GATEWAY: ServerVariables = ServerVariables {
    server: "the gateway",
    url: URL,
    ca_file: CA_FILE,
    client_cert_file: CLIENT_CERT_FILE,
    client_key_file: CLIENT_KEY_FILE,
    username: USERNAME,
    password: PASSWORD,
    bearer_token_file: BEARER_TOKEN_FILE,
};

/// The remote-write endpoint's variables.
pub(crate) const REMOTE_WRITE: ServerVariables = ServerVariables {
    server: "the remote-write endpoint",
    url: REMOTE_WRITE_URL,
    ca_file: "PUSHTIMER_REMOTE_WRITE_CA_FILE",
    client_cert_file: "PUSHTIMER_REMOTE_WRITE_CLIENT_CERT_FILE",
    client_key_file: "PUSHTIMER_REMOTE_WRITE_CLIENT_KEY_FILE",
    username: "PUSHTIMER_REMOTE_WRITE_USERNAME",
    password: "PUSHTIMER_REMOTE_WRITE_PASSWORD",
    bearer_token_file: "PUSHTIMER_REMOTE_WRITE_BEARER_TOKEN_FILE",
};

/// `PUSHTIMER_TEXTFILE`: a file for the node exporter's textfile collector.
pub(crate) const TEXTFILE: &str = "PUSHTIMER_TEXTFILE";
/// `PUSHTIMER_LISTEN`: the address of a `/metrics` endpoint served while the job runs.
pub(crate) const LISTEN: &str = "PUSHTIMER_LISTEN";

/// `PUSHTIMER_NAMESPACE`: prefix of every pushtimer metric name.
pub(crate) const NAMESPACE: &str = "PUSHTIMER_NAMESPACE";
/// `PUSHTIMER_LABELS`: constant labels on every pushtimer series.
pub(crate) const LABELS: &str = "PUSHTIMER_LABELS";
/// `JOB_COMPLETION_INDEX`: set by Kubernetes in the pods of an Indexed Job (and used as the
/// node rank by torchrun): without `PUSHGATEWAY_GROUPING`, it becomes the grouping label
/// [`COMPLETION_INDEX_LABEL`], so parallel pods of one job do not overwrite each other.
pub(crate) const JOB_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";
/// The grouping label `JOB_COMPLETION_INDEX` becomes.
pub(crate) const COMPLETION_INDEX_LABEL: &str = "completion_index";
/// `PUSHTIMER_QUANTILES`: quantiles for every timed function's summary, `0.5,0.9,0.99`.
pub(crate) const QUANTILES: &str = "PUSHTIMER_QUANTILES";
/// `PUSHTIMER_CARDINALITY_LIMIT`: the most label sets a metric gets before the overflow series.
pub(crate) const CARDINALITY_LIMIT: &str = "PUSHTIMER_CARDINALITY_LIMIT";
/// Label sets per metric name unless [`CARDINALITY_LIMIT`] says otherwise.
pub(crate) const DEFAULT_CARDINALITY_LIMIT: usize = 2_000;
/// The bounds of [`CARDINALITY_LIMIT`]: at least one series, at most a million (each series
/// of a summary costs about a kilobyte per CPU).
pub(crate) const CARDINALITY_LIMIT_BOUNDS: (usize, usize) = (1, 1_000_000);
/// `PUSHTIMER_NATIVE_HISTOGRAMS`: native buckets on every histogram (`on` or `off`, the
/// default).
pub(crate) const NATIVE_HISTOGRAMS: &str = "PUSHTIMER_NATIVE_HISTOGRAMS";
/// The schema of a native histogram that names none: 32 buckets per power of two, each 2.2 %
/// wider than the one below (lowered when a series would have more than 160 buckets).
pub(crate) const DEFAULT_NATIVE_SCHEMA: i32 = 5;
/// `PUSHTIMER_SIGNALS`: a final push on SIGTERM and SIGINT (`on`, the default, or `off`).
pub(crate) const SIGNALS: &str = "PUSHTIMER_SIGNALS";
/// `PUSHTIMER_EXPECTED_INTERVAL`: how often the job should succeed.
pub(crate) const EXPECTED_INTERVAL: &str = "PUSHTIMER_EXPECTED_INTERVAL";
/// `PUSHTIMER_VERSION`: the program's version, on `pushtimer_job_info`.
pub(crate) const VERSION: &str = "PUSHTIMER_VERSION";
/// The most characters a program's version may have (`PUSHTIMER_VERSION`, `Config::version`):
/// a git SHA, `git describe` or an image digest fit; a longer value is a mistake (a file's
/// content), and it would go with every push.
pub(crate) const VERSION_MAX_CHARS: usize = 128;

/// Default of `PUSHGATEWAY_TIMEOUT`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of `PUSHGATEWAY_PUSH_INTERVAL`.
pub(crate) const DEFAULT_PUSH_INTERVAL: Duration = Duration::from_secs(15);

/// The range a duration setting may take; a value outside is clamped to the nearer end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) min: Duration,
    pub(crate) max: Duration,
}

/// `PUSHGATEWAY_TIMEOUT`: below 10 ms no push can succeed (every one would fail with a
/// misleading "no answer"); above 5 minutes the final push could hold a finished job for an
/// unreasonable time.
pub(crate) const TIMEOUT_BOUNDS: Bounds = Bounds {
    min: Duration::from_millis(10),
    max: Duration::from_secs(300),
};

/// `PUSHGATEWAY_PUSH_INTERVAL`: the floor keeps the push thread from spinning a core; a day is
/// as good as "only at exit".
pub(crate) const PUSH_INTERVAL_BOUNDS: Bounds = Bounds {
    min: Duration::from_millis(10),
    max: Duration::from_secs(24 * 60 * 60),
};

/// `PUSHTIMER_EXPECTED_INTERVAL`: from a job every second to one every ten years.
pub(crate) const EXPECTED_INTERVAL_BOUNDS: Bounds = Bounds {
    min: Duration::from_secs(1),
    max: Duration::from_secs(10 * 366 * 24 * 60 * 60),
};

impl Bounds {
    /// `value` inside the bounds, and the problem to report when it was not.
    pub(crate) fn clamp(self, setting: &str, value: Duration) -> (Duration, Option<String>) {
        let clamped = value.clamp(self.min, self.max);
        if clamped == value {
            return (value, None);
        }
        let side = if value < self.min {
            "below the minimum"
        } else {
            "above the maximum"
        };
        let problem = format!(
            "{setting} = {} is {side} {}; using {}",
            show(value),
            show(clamped),
            show(clamped)
        );
        (clamped, Some(problem))
    }
}

/// A duration the way a user writes one (`250ms`, `5s`, `2h`).
pub(crate) fn show(duration: Duration) -> String {
    if duration.as_secs() > 100 * 365 * 24 * 3600 {
        // humantime writes years as sums of units; past a century the number says enough.
        return format!("{}s", duration.as_secs());
    }
    humantime::format_duration(duration).to_string()
}

/// `5s`, `250ms`, `1m 30s` (humantime), or a bare number of seconds (`1.5`, `1e3`). Negative,
/// NaN and text that is no duration at all are errors. A well-formed duration too large for a
/// `Duration` (`300000000000y`, `1e300`) is `Duration::MAX`: as long as possible, which the
/// setting's bounds then cut down (each setting is bounded once, where the configuration takes
/// effect: see `checked.rs`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_nan() || seconds < 0.0 {
            return Err("it must be a non-negative number of seconds".into());
        }
        return Ok(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX));
    }
    match humantime::parse_duration(text) {
        Ok(duration) => Ok(duration),
        Err(humantime::DurationError::NumberOverflow) => Ok(Duration::MAX),
        Err(error) => Err(error.to_string()),
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Sets `name` to `value` in a list of name-value pairs: a later value for a name replaces the
/// earlier one, and the name moves to the end (as client_golang's grouping does).
pub(crate) fn set_pair(pairs: &mut Vec<(String, String)>, name: &str, value: &str) {
    pairs.retain(|(existing, _)| existing != name);
    pairs.push((name.to_owned(), value.to_owned()));
}

/// `team=ml,project=seg`: pairs that do not parse are dropped, each with a problem naming
/// `variable`; the others are kept (a later pair with the same name wins).
pub(crate) fn parse_pairs(variable: &str, text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((name, value)) => set_pair(&mut pairs, name.trim(), value.trim()),
            None => problems.push(format!("{variable}: {pair:?} dropped: expected name=value")),
        }
    }
    (pairs, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_both_notations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(
            parse_duration("1e19"),
            Ok(Duration::from_secs(10_000_000_000_000_000_000))
        );
        assert_eq!(parse_duration("1e300"), Ok(Duration::MAX));
        assert_eq!(parse_duration("3000000000000y"), Ok(Duration::MAX));
        for bad in ["banana", "-1", "NaN", "-0.5s", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_parsed_duration_ends_inside_its_bounds_once_clamped() {
        for text in [
            "0",
            "0s",
            "1ns",
            "9ms",
            "10ms",
            "5s",
            "300s",
            "301s",
            "1e19",
            "1e300",
            "inf",
            "300000000000y",
            "18446744073709551615s",
        ] {
            let parsed = parse_duration(text).unwrap_or(DEFAULT_TIMEOUT);
            for bounds in [TIMEOUT_BOUNDS, PUSH_INTERVAL_BOUNDS] {
                let (value, _) = bounds.clamp(TIMEOUT, parsed);
                assert!(
                    value >= bounds.min && value <= bounds.max,
                    "{text}: {value:?}"
                );
            }
        }
        let clamp = |text| TIMEOUT_BOUNDS.clamp(TIMEOUT, parse_duration(text).unwrap());
        let (value, problem) = clamp("1e19");
        assert_eq!(value, TIMEOUT_BOUNDS.max);
        assert!(problem.unwrap().contains("above the maximum 5m"));
        let (value, problem) = clamp("0");
        assert_eq!(value, TIMEOUT_BOUNDS.min);
        assert!(problem.unwrap().contains("below the minimum 10ms"));
        assert_eq!(clamp("2s"), (Duration::from_secs(2), None));
    }

    #[test]
    fn clamping_builder_values() {
        let (value, problem) = TIMEOUT_BOUNDS.clamp(TIMEOUT, Duration::MAX);
        assert_eq!(value, TIMEOUT_BOUNDS.max);
        assert!(problem.unwrap().contains(TIMEOUT));
        let (value, _) = PUSH_INTERVAL_BOUNDS.clamp(PUSH_INTERVAL, Duration::ZERO);
        assert_eq!(value, Duration::from_millis(10));
    }

    #[test]
    fn later_pairs_replace_earlier_ones() {
        let (pairs, problems) = parse_pairs(LABELS, "a=1, oops ,b=2,a=3");
        assert_eq!(
            pairs,
            vec![
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), "3".to_owned())
            ]
        );
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn the_bounds_are_the_documented_ones() {
        // The README's environment table: 10ms..5min, 10ms..24h, 1s..10 years.
        let ms = Duration::from_millis;
        let s = Duration::from_secs;
        assert_eq!(
            TIMEOUT_BOUNDS,
            Bounds {
                min: ms(10),
                max: s(300)
            }
        );
        assert_eq!(
            PUSH_INTERVAL_BOUNDS,
            Bounds {
                min: ms(10),
                max: s(86_400)
            }
        );
        assert_eq!(
            EXPECTED_INTERVAL_BOUNDS,
            Bounds {
                min: s(1),
                max: s(3_660 * 86_400)
            }
        );
    }

    #[test]
    fn durations_are_shown_as_written_and_centuries_in_seconds() {
        assert_eq!(show(Duration::from_secs(3600)), "1h");
        assert_eq!(show(Duration::from_millis(250)), "250ms");
        let century = 100 * 365 * 24 * 3600;
        assert_eq!(
            show(Duration::from_secs(century + 1)),
            format!("{}s", century + 1)
        );
        assert_ne!(show(Duration::from_secs(century)), format!("{century}s"));
        assert_eq!(show(Duration::MAX), format!("{}s", u64::MAX));
    }

    #[test]
    fn booleans_in_every_spelling() {
        for yes in ["true", "1", "yes", "on", " ON ", "True"] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["false", "0", "no", "off", " Off ", "FALSE"] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        for neither in ["", "2", "y", "enabled"] {
            assert_eq!(parse_bool(neither), None, "{neither}");
        }
    }
}
