//! Settings: from the environment, or built in code.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::PushError;
use crate::names;
use crate::pusher::{Pusher, check_grouping_name, redact};
use crate::registry::Naming;

/// Environment variables read by [`Config::from_env`].
pub(crate) mod var {
    pub(crate) const URL: &str = "PUSHGATEWAY_URL";
    pub(crate) const JOB: &str = "PUSHGATEWAY_JOB";
    pub(crate) const TIMEOUT: &str = "PUSHGATEWAY_TIMEOUT";
    pub(crate) const PUSH_INTERVAL: &str = "PUSHGATEWAY_PUSH_INTERVAL";
    pub(crate) const CA_FILE: &str = "PUSHGATEWAY_CA_FILE";
    pub(crate) const CLIENT_CERT_FILE: &str = "PUSHGATEWAY_CLIENT_CERT_FILE";
    pub(crate) const CLIENT_KEY_FILE: &str = "PUSHGATEWAY_CLIENT_KEY_FILE";
    pub(crate) const USERNAME: &str = "PUSHGATEWAY_USERNAME";
    pub(crate) const PASSWORD: &str = "PUSHGATEWAY_PASSWORD";
    pub(crate) const BEARER_TOKEN_FILE: &str = "PUSHGATEWAY_BEARER_TOKEN_FILE";
    pub(crate) const GROUPING: &str = "PUSHGATEWAY_GROUPING";
    pub(crate) const METHOD: &str = "PUSHGATEWAY_METHOD";
    pub(crate) const DELETE_ON_EXIT: &str = "PUSHGATEWAY_DELETE_ON_EXIT";
    pub(crate) const NAMESPACE: &str = "PUSHTIMER_NAMESPACE";
    pub(crate) const LABELS: &str = "PUSHTIMER_LABELS";
}

/// Default of [`Config::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`Config::push_interval`].
pub const DEFAULT_PUSH_INTERVAL: Duration = Duration::from_secs(1);

/// How the background thread sends the metrics (`PUSHGATEWAY_METHOD`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PushMethod {
    /// `PUT`: the group holds exactly what this job pushed (the default).
    #[default]
    Put,
    /// `POST`: only the metric families this job pushes are replaced; the group's others stay.
    Post,
}

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
///     .grouping("instance", "worker-3")
///     .install();
/// assert!(installed.is_ok());
/// ```
///
/// Invalid values never fail the job: each one is logged once as a warning naming the setting
/// and then ignored (the default is used, or the bad label is dropped). A file that cannot be
/// used (CA, client certificate or key, token) turns pushing off, with one warning naming the
/// variable and the path. `Debug` never shows passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) gateway: Option<String>,
    pub(crate) job: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) push_interval: Duration,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) client_cert_file: Option<PathBuf>,
    pub(crate) client_key_file: Option<PathBuf>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) bearer_token_file: Option<PathBuf>,
    pub(crate) grouping: Vec<(String, String)>,
    pub(crate) method: PushMethod,
    pub(crate) delete_on_exit: bool,
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
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            username: None,
            password: None,
            bearer_token_file: None,
            grouping: Vec::new(),
            method: PushMethod::Put,
            delete_on_exit: false,
            namespace: None,
            labels: Vec::new(),
            problems: Vec::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("gateway", &self.gateway.as_deref().map(redact))
            .field("job", &self.job)
            .field("timeout", &self.timeout)
            .field("push_interval", &self.push_interval)
            .field("ca_file", &self.ca_file)
            .field("client_cert_file", &self.client_cert_file)
            .field("client_key_file", &self.client_key_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("bearer_token_file", &self.bearer_token_file)
            .field("grouping", &self.grouping)
            .field("method", &self.method)
            .field("delete_on_exit", &self.delete_on_exit)
            .field("namespace", &self.namespace)
            .field("labels", &self.labels)
            .finish_non_exhaustive()
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
        let path = |name: &str| get(name).map(|p| PathBuf::from(p.trim()));
        let mut config = Config {
            gateway: get(var::URL).map(|url| url.trim().to_owned()),
            job: get(var::JOB),
            ca_file: path(var::CA_FILE),
            client_cert_file: path(var::CLIENT_CERT_FILE),
            client_key_file: path(var::CLIENT_KEY_FILE),
            username: get(var::USERNAME),
            password: lookup(var::PASSWORD).filter(|p| !p.is_empty()),
            bearer_token_file: path(var::BEARER_TOKEN_FILE),
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
        if let Some(text) = get(var::METHOD) {
            match text.trim().to_ascii_lowercase().as_str() {
                "put" => config.method = PushMethod::Put,
                "post" => config.method = PushMethod::Post,
                _ => config.problems.push(format!(
                    "{}={text:?} is neither put nor post; using put",
                    var::METHOD
                )),
            }
        }
        if let Some(text) = get(var::DELETE_ON_EXIT) {
            match parse_bool(&text) {
                Some(flag) => config.delete_on_exit = flag,
                None => config.problems.push(format!(
                    "{}={text:?} is neither true nor false; using false",
                    var::DELETE_ON_EXIT
                )),
            }
        }
        for (name, slot) in [
            (var::LABELS, &mut config.labels),
            (var::GROUPING, &mut config.grouping),
        ] {
            if let Some(text) = get(name) {
                let (pairs, problems) = parse_pairs(name, &text);
                *slot = pairs;
                config.problems.extend(problems);
            }
        }
        config
    }

    /// The Pushgateway's base URL, e.g. `https://pushgateway:9091` (`PUSHGATEWAY_URL`; default:
    /// none, nothing is pushed). `user:password@` in it is used as basic auth.
    pub fn gateway(mut self, url: &str) -> Self {
        self.gateway = Some(url.trim().to_owned());
        self
    }

    /// The `job` grouping label (`PUSHGATEWAY_JOB`; default: the executable's file stem).
    pub fn job(mut self, job: &str) -> Self {
        self.job = Some(job.to_owned());
        self
    }

    /// Total deadline of one push, retries included, and the most the final push at exit or a
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

    /// Trusts exactly the CA certificates in this PEM file for the gateway's certificate
    /// (`PUSHGATEWAY_CA_FILE`; default: the public Mozilla roots).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// A client certificate chain and its key, both PEM, for mutual TLS
    /// (`PUSHGATEWAY_CLIENT_CERT_FILE`, `PUSHGATEWAY_CLIENT_KEY_FILE`; default: none).
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert_file = Some(cert.into());
        self.client_key_file = Some(key.into());
        self
    }

    /// HTTP basic auth (`PUSHGATEWAY_USERNAME`, `PUSHGATEWAY_PASSWORD`; default: none).
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        self.username = Some(username.to_owned());
        self.password = Some(password.to_owned());
        self
    }

    /// A file holding a bearer token, re-read when it changes
    /// (`PUSHGATEWAY_BEARER_TOKEN_FILE`; default: none).
    pub fn bearer_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.bearer_token_file = Some(path.into());
        self
    }

    /// An extra grouping label after the job (`PUSHGATEWAY_GROUPING=instance=worker-3,shard=7`;
    /// default: none).
    pub fn grouping(mut self, name: &str, value: &str) -> Self {
        set_pair(&mut self.grouping, name, value);
        self
    }

    /// PUT (replace the group) or POST (replace only our families) (`PUSHGATEWAY_METHOD`;
    /// default: PUT).
    pub fn method(mut self, method: PushMethod) -> Self {
        self.method = method;
        self
    }

    /// At exit, delete the group instead of pushing (`PUSHGATEWAY_DELETE_ON_EXIT`; default
    /// false): for jobs whose metrics must not outlive them.
    pub fn delete_on_exit(mut self, delete: bool) -> Self {
        self.delete_on_exit = delete;
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
        set_pair(&mut self.labels, name, value);
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

    /// The pusher these settings describe: `Ok(None)` when no gateway is set. Every file is
    /// read and checked here, at start-up.
    pub(crate) fn pusher(&mut self) -> Result<Option<Pusher>, PushError> {
        let Some(url) = &self.gateway else {
            return Ok(None);
        };
        let job = self.job.clone().unwrap_or_else(default_job);
        let mut pusher = Pusher::new(url, &job)?.timeout(self.timeout);
        for (name, value) in std::mem::take(&mut self.grouping) {
            // A bad grouping pair is dropped like a bad label; the rest still applies.
            match check_grouping_name(&name) {
                Ok(()) => pusher = pusher.grouping(&name, &value)?,
                Err(error) => self.problems.push(format!("{error}; that pair is dropped")),
            }
        }
        if let Some(ca) = &self.ca_file {
            pusher = pusher.ca_file(ca)?;
        }
        match (&self.client_cert_file, &self.client_key_file) {
            (Some(cert), Some(key)) => pusher = pusher.client_cert_files(cert, key)?,
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => {
                return Err(PushError::InvalidConfig {
                    setting: var::CLIENT_CERT_FILE,
                    reason: format!(
                        "{} and {} must be set together",
                        var::CLIENT_CERT_FILE,
                        var::CLIENT_KEY_FILE
                    ),
                });
            }
        }
        if let Some(token) = &self.bearer_token_file {
            if self.username.is_some() {
                self.problems.push(format!(
                    "both {} and {} are set; the bearer token is used",
                    var::BEARER_TOKEN_FILE,
                    var::USERNAME
                ));
            }
            pusher = pusher.bearer_token_file(token)?;
        } else if let Some(username) = &self.username {
            pusher = pusher.basic_auth(username, self.password.as_deref().unwrap_or(""));
        } else if self.password.is_some() {
            self.problems.push(format!(
                "{} is set without {}; no basic auth is sent",
                var::PASSWORD,
                var::USERNAME
            ));
        }
        if pusher.sends_credentials_in_clear_text() {
            self.problems.push(format!(
                "{} is plain http://: the credentials travel in clear text; use https://",
                var::URL
            ));
        }
        Ok(Some(pusher))
    }
}

/// `PUSHGATEWAY_JOB`'s default: the executable's file stem, e.g. `train` for
/// `/usr/local/bin/train`.
fn default_job() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| String::from("pushtimer"))
}

/// Sets `name` to `value` in a list of name-value pairs: a later value for a name replaces the
/// earlier one, and the name moves to the end.
fn set_pair(pairs: &mut Vec<(String, String)>, name: &str, value: &str) {
    pairs.retain(|(existing, _)| existing != name);
    pairs.push((name.to_owned(), value.to_owned()));
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

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `team=ml,project=seg`: pairs that do not parse are dropped, each with a problem report
/// naming `variable`; the others are kept (a later pair with the same name wins).
fn parse_pairs(variable: &str, text: &str) -> (Vec<(String, String)>, Vec<String>) {
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
        assert_eq!(config.method, PushMethod::Put);
        assert!(!config.delete_on_exit);
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

    #[test]
    fn method_and_delete_on_exit() {
        let config = from(&[(var::METHOD, "POST"), (var::DELETE_ON_EXIT, "true")]);
        assert_eq!(config.method, PushMethod::Post);
        assert!(config.delete_on_exit);
        let config = from(&[(var::METHOD, "patch"), (var::DELETE_ON_EXIT, "maybe")]);
        assert_eq!(config.method, PushMethod::Put);
        assert!(!config.delete_on_exit);
        assert_eq!(config.problems.len(), 2, "{:?}", config.problems);
    }

    #[test]
    fn grouping_builds_the_path_and_drops_bad_names() {
        let mut config = from(&[
            (var::URL, "http://h:9091"),
            (var::JOB, "j"),
            (var::GROUPING, "instance=worker-3,job=x,shard=a/b,bad"),
        ]);
        let pusher = config.pusher().unwrap().unwrap();
        assert_eq!(
            pusher.url(),
            "http://h:9091/metrics/job/j/instance/worker-3/shard@base64/YS9i"
        );
        assert_eq!(config.problems.len(), 2, "{:?}", config.problems);
        assert!(
            config
                .problems
                .iter()
                .all(|p| p.contains("PUSHGATEWAY_GROUPING"))
        );
    }

    #[test]
    fn files_are_checked_at_start_up() {
        let mut config = from(&[
            (var::URL, "https://h"),
            (var::CA_FILE, "/nonexistent/ca.pem"),
        ]);
        let error = config.pusher().unwrap_err().to_string();
        assert!(error.contains("PUSHGATEWAY_CA_FILE"), "{error}");
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
        let mut config = from(&[
            (var::URL, "https://h"),
            (var::CLIENT_CERT_FILE, "/nonexistent/c.pem"),
        ]);
        let error = config.pusher().unwrap_err().to_string();
        assert!(error.contains("PUSHGATEWAY_CLIENT_KEY_FILE"), "{error}");
    }

    #[test]
    fn debug_hides_the_password() {
        let config = from(&[
            (var::URL, "https://u:hunter2@h"),
            (var::USERNAME, "u"),
            (var::PASSWORD, "hunter2"),
        ]);
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn basic_auth_over_http_is_reported() {
        let mut config = from(&[
            (var::URL, "http://h"),
            (var::USERNAME, "u"),
            (var::PASSWORD, "p"),
        ]);
        assert!(config.pusher().unwrap().is_some());
        assert!(config.problems.iter().any(|p| p.contains("clear text")));
    }
}
