//! Settings: from the environment, or built in code.

use std::time::Duration;

use crate::names;
use crate::registry::Naming;

/// Environment variables read by [`Config::from_env`].
pub(crate) mod var {
    pub(crate) const URL: &str = "PUSHGATEWAY_URL";
    pub(crate) const JOB: &str = "PUSHGATEWAY_JOB";
    pub(crate) const TIMEOUT: &str = "PUSHGATEWAY_TIMEOUT";
    pub(crate) const PUSH_INTERVAL: &str = "PUSHGATEWAY_PUSH_INTERVAL";
    pub(crate) const NAMESPACE: &str = "PUSHTIMER_NAMESPACE";
    pub(crate) const LABELS: &str = "PUSHTIMER_LABELS";
}

/// Default of [`Config::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`Config::push_interval`].
pub const DEFAULT_PUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Every setting of pushtimer, read from the environment or set in code.
///
/// Without any call, pushtimer reads the environment on the first timed call. To set things in
/// code instead, build a `Config` and [`install`](Config::install) it before the first timed
/// call; environment values are the starting point of [`from_env`](Config::from_env), so
/// code can override single settings:
///
/// ```
/// use std::time::Duration;
///
/// let installed = pushtimer::Config::from_env()
///     .job("nightly_etl")
///     .timeout(Duration::from_secs(2))
///     .label("team", "data")
///     .install();
/// assert!(installed.is_ok());
/// ```
///
/// Invalid values never fail the job: each one is logged once as a warning naming the setting
/// and then ignored (the default is used, or the bad label is dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) gateway: Option<String>,
    pub(crate) job: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) push_interval: Duration,
    pub(crate) namespace: Option<String>,
    pub(crate) labels: Vec<(String, String)>,
    /// Problems met while reading the environment, logged when the config takes effect.
    pub(crate) problems: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gateway: None,
            job: None,
            timeout: DEFAULT_TIMEOUT,
            push_interval: DEFAULT_PUSH_INTERVAL,
            namespace: None,
            labels: Vec::new(),
            problems: Vec::new(),
        }
    }
}

impl Config {
    /// All defaults, ignoring the environment: nothing is pushed until [`gateway`](Self::gateway)
    /// is set.
    pub fn new() -> Self {
        Config::default()
    }

    /// The settings in the environment (see the README's table), on top of the defaults.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the environment given as a function, for tests.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut config = Config {
            gateway: get(var::URL).map(|url| url.trim().to_owned()),
            job: get(var::JOB),
            namespace: get(var::NAMESPACE).map(|ns| ns.trim().to_owned()),
            ..Config::default()
        };
        for (name, slot) in [
            (var::TIMEOUT, &mut config.timeout),
            (var::PUSH_INTERVAL, &mut config.push_interval),
        ] {
            if let Some(text) = get(name) {
                match parse_duration(&text) {
                    Ok(duration) => *slot = duration,
                    Err(reason) => config.problems.push(format!(
                        "{name}={text:?} is not a duration ({reason}); using the default {}",
                        humantime::format_duration(*slot)
                    )),
                }
            }
        }
        if let Some(text) = get(var::LABELS) {
            let (labels, problems) = parse_labels(&text);
            config.labels = labels;
            config.problems.extend(problems);
        }
        config
    }

    /// The Pushgateway's base URL, e.g. `http://pushgateway:9091` (`PUSHGATEWAY_URL`; default:
    /// none, nothing is pushed).
    pub fn gateway(mut self, url: &str) -> Self {
        self.gateway = Some(url.trim().to_owned());
        self
    }

    /// The `job` grouping label (`PUSHGATEWAY_JOB`; default: the executable's file stem).
    pub fn job(mut self, job: &str) -> Self {
        self.job = Some(job.to_owned());
        self
    }

    /// Total deadline of one push attempt, and the most the final push at exit or a
    /// [`flush`](crate::flush) waits (`PUSHGATEWAY_TIMEOUT`; default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often the background thread looks for new observations and pushes them
    /// (`PUSHGATEWAY_PUSH_INTERVAL`; default 1 s). Unchanged state is not pushed again.
    pub fn push_interval(mut self, interval: Duration) -> Self {
        self.push_interval = interval;
        self
    }

    /// A prefix for every metric name: `ns` turns `x_seconds` into `ns_x_seconds`
    /// (`PUSHTIMER_NAMESPACE`; default: none).
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// A constant label on every series (`PUSHTIMER_LABELS=team=ml,project=seg`; default:
    /// none). A function's own label of the same name wins.
    pub fn label(mut self, name: &str, value: &str) -> Self {
        self.labels.retain(|(existing, _)| existing != name);
        self.labels.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Makes this the configuration of the process. It must come before the first timed call
    /// (or [`render`](crate::render), [`flush`](crate::flush), [`Summary`](crate::Summary)),
    /// which otherwise read the environment and fix the configuration for good.
    pub fn install(self) -> Result<(), crate::AlreadyInstalled> {
        crate::global::install(self)
    }

    /// Validates names, dropping (and reporting) what is unusable.
    pub(crate) fn naming(&mut self) -> Naming {
        let namespace = self.namespace.take().filter(|ns| {
            let valid = names::is_valid_metric_name(ns);
            if !valid {
                self.problems.push(format!(
                    "{}={ns:?} is not a valid metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*); no prefix is used",
                    var::NAMESPACE
                ));
            }
            valid
        });
        let mut labels = Vec::new();
        for (name, value) in std::mem::take(&mut self.labels) {
            match names::constant_label_problem(&name) {
                None => labels.push((name, value)),
                Some(reason) => self
                    .problems
                    .push(format!("{}: label {name:?} dropped: {reason}", var::LABELS)),
            }
        }
        Naming { namespace, labels }
    }
}

/// `5s`, `250ms`, `1m 30s` (humantime), or a bare number of seconds. Zero is refused: a zero
/// deadline would make every push fail.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match text.parse::<f64>() {
        Ok(seconds) => Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())?,
        Err(_) => humantime::parse_duration(text).map_err(|e| e.to_string())?,
    };
    if duration.is_zero() {
        return Err("it must be more than zero".into());
    }
    Ok(duration)
}

/// `team=ml,project=seg`: pairs that do not parse are dropped, each with a problem report; the
/// others are kept.
fn parse_labels(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((name, value)) => {
                let name = name.trim().to_owned();
                labels.retain(|(existing, _)| *existing != name);
                labels.push((name, value.trim().to_owned()));
            }
            None => problems.push(format!(
                "{}: {pair:?} dropped: expected name=value",
                var::LABELS
            )),
        }
    }
    (labels, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_without_environment() {
        let config = from(&[]);
        assert_eq!(config, Config::new());
        assert_eq!(config.timeout, Duration::from_secs(5));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("banana").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn bad_timeout_is_reported_and_defaulted() {
        let config = from(&[(var::TIMEOUT, "banana")]);
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert_eq!(config.problems.len(), 1);
        assert!(config.problems[0].contains("PUSHGATEWAY_TIMEOUT"));
    }

    #[test]
    fn bad_label_pairs_are_dropped_and_the_rest_kept() {
        let mut config = from(&[(var::LABELS, "team=ml, oops ,job=x,__a=1,project=seg")]);
        let naming = config.naming();
        assert_eq!(
            naming.labels,
            vec![
                ("team".to_owned(), "ml".to_owned()),
                ("project".to_owned(), "seg".to_owned())
            ]
        );
        assert_eq!(config.problems.len(), 3, "{:?}", config.problems);
        assert!(
            config
                .problems
                .iter()
                .all(|p| p.contains("PUSHTIMER_LABELS"))
        );
    }

    #[test]
    fn bad_namespace_is_dropped() {
        let mut config = from(&[(var::NAMESPACE, "a-b")]);
        assert_eq!(config.naming().namespace, None);
        assert!(config.problems[0].contains("PUSHTIMER_NAMESPACE"));
        let mut config = from(&[(var::NAMESPACE, "ns")]);
        assert_eq!(config.naming().namespace.as_deref(), Some("ns"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = from(&[(var::URL, " "), (var::JOB, "")]);
        assert_eq!(config.gateway, None);
        assert_eq!(config.job, None);
    }
}
