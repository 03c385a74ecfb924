//! [`Config`]: every setting, read from the environment or set in code, and checked once when
//! it takes effect ([`Config::into_parts`]). Installing it is the runtime's business
//! (`global.rs`).

use std::cell::RefCell;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::destinations::pusher::Pusher;
use crate::destinations::remote_write::RemoteWriter;
use crate::error::PushError;
use crate::redact::redact_url;
use crate::settings::env;
use crate::settings::names;
use crate::store::registry::Naming;
use crate::store::run::Run;
use crate::transport::endpoint::Endpoint;
use crate::transport::url::ServerUrl;

/// Default of [`Config::timeout`]: 5 s.
pub const DEFAULT_TIMEOUT: Duration = env::DEFAULT_TIMEOUT;
/// Default of [`Config::push_interval`]: 15 s, the scrape interval most Prometheus setups use
/// (pushing more often than the gateway is scraped shows nothing more; see `docs/scale.md`).
pub const DEFAULT_PUSH_INTERVAL: Duration = env::DEFAULT_PUSH_INTERVAL;

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
/// Invalid values never fail the job: each one is reported once as a warning naming the
/// setting when the configuration takes effect, and then ignored (the default is used, or the
/// bad label is dropped) or, for durations, moved into bounds. A file that cannot be used (CA,
/// client certificate or key, token) turns pushing off, with one warning naming the variable
/// and the path. `Debug` never shows passwords.
#[derive(Clone, PartialEq)]
#[must_use = "a Config does nothing until .install() is called"]
pub struct Config {
    gateway: Option<String>,
    remote_write: Option<String>,
    job: Option<String>,
    timeout: Duration,
    push_interval: Duration,
    secure: Secure,
    /// The remote-write endpoint's own TLS files and credentials.
    remote_secure: Secure,
    grouping: Vec<(String, String)>,
    method: PushMethod,
    delete_on_exit: bool,
    namespace: Option<String>,
    labels: Vec<(String, String)>,
    expected_interval: Option<Duration>,
    signals: bool,
    quantiles: Vec<f64>,
    /// Values in the environment that could not be read as they were written.
    env_problems: Vec<String>,
}

/// TLS files and credentials: what makes a connection to the gateway trusted and authorised.
#[derive(Clone, Default, PartialEq, Eq)]
struct Secure {
    ca_file: Option<PathBuf>,
    client_cert_file: Option<PathBuf>,
    client_key_file: Option<PathBuf>,
    username: Option<String>,
    password: Option<String>,
    bearer_token_file: Option<PathBuf>,
}

impl Secure {
    fn set_client_cert(&mut self, cert: PathBuf, key: PathBuf) {
        self.client_cert_file = Some(cert);
        self.client_key_file = Some(key);
    }

    fn set_basic_auth(&mut self, username: &str, password: &str) {
        self.username = Some(username.to_owned());
        self.password = Some(password.to_owned());
    }
}

impl fmt::Debug for Secure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secure")
            .field("ca_file", &self.ca_file)
            .field("client_cert_file", &self.client_cert_file)
            .field("client_key_file", &self.client_key_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("bearer_token_file", &self.bearer_token_file)
            .finish()
    }
}

/// What a [`Config`] turns into when it takes effect.
pub(crate) struct Parts {
    pub(crate) naming: Naming,
    /// This run, for the job's own gauges.
    pub(crate) run: Run,
    /// How to push, once the runtime starts.
    pub(crate) pushing: PushSettings,
    /// Everything to warn about, once, when the runtime starts.
    pub(crate) problems: Vec<String>,
}

/// The background pusher's settings: at least one destination.
pub(crate) struct PushPlan {
    pub(crate) gateway: Option<GatewayPlan>,
    pub(crate) remote_write: Option<RemoteWriter>,
    pub(crate) interval: Duration,
    /// The deadline of a request, for both destinations.
    pub(crate) timeout: Duration,
    /// Take SIGTERM and SIGINT for a final push.
    pub(crate) signals: bool,
}

/// How to push to the Pushgateway.
pub(crate) struct GatewayPlan {
    pub(crate) pusher: Pusher,
    pub(crate) method: PushMethod,
    pub(crate) delete_on_exit: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gateway: None,
            remote_write: None,
            job: None,
            timeout: DEFAULT_TIMEOUT,
            push_interval: DEFAULT_PUSH_INTERVAL,
            secure: Secure::default(),
            remote_secure: Secure::default(),
            grouping: Vec::new(),
            method: PushMethod::Put,
            delete_on_exit: false,
            namespace: None,
            labels: Vec::new(),
            expected_interval: None,
            signals: true,
            quantiles: Vec::new(),
            env_problems: Vec::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("gateway", &self.gateway.as_deref().map(redact_url))
            .field("job", &self.job)
            .field("timeout", &self.timeout)
            .field("push_interval", &self.push_interval)
            .field("ca_file", &self.secure.ca_file)
            .field("client_cert_file", &self.secure.client_cert_file)
            .field("client_key_file", &self.secure.client_key_file)
            .field("username", &self.secure.username)
            .field("password", &self.secure.password.as_ref().map(|_| "***"))
            .field("bearer_token_file", &self.secure.bearer_token_file)
            .field(
                "remote_write",
                &self.remote_write.as_deref().map(redact_url),
            )
            .field("remote_write_secure", &self.remote_secure)
            .field("grouping", &self.grouping)
            .field("method", &self.method)
            .field("delete_on_exit", &self.delete_on_exit)
            .field("namespace", &self.namespace)
            .field("labels", &self.labels)
            .field("expected_interval", &self.expected_interval)
            .field("signals", &self.signals)
            .field("quantiles", &self.quantiles)
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
    /// Empty values count as unset.
    ///
    /// A value that is not valid UTF-8 is never dropped silently: a file path is used as it is
    /// (paths need not be text), `PUSHGATEWAY_JOB` becomes its text with each invalid byte
    /// replaced by U+FFFD (with a warning saying so), and any other variable is ignored with
    /// one warning naming it (never its value).
    pub fn from_env() -> Self {
        Self::from_os_lookup(|name| std::env::var_os(name))
    }

    /// [`from_env`](Self::from_env) with the environment given as a function of raw values,
    /// which need not be UTF-8, for tests.
    pub(crate) fn from_os_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Self {
        // The variables whose value is not UTF-8, each once, in the order first read.
        let garbled: RefCell<Vec<(String, OsString)>> = RefCell::new(Vec::new());
        let mut config = Self::from_lookup(|name| match lookup(name)?.into_string() {
            Ok(text) => Some(text),
            Err(raw) => {
                let mut garbled = garbled.borrow_mut();
                if !garbled.iter().any(|(seen, _)| seen == name) {
                    garbled.push((name.to_owned(), raw));
                }
                None
            }
        });
        for (name, raw) in garbled.into_inner() {
            let problem = config.use_not_unicode(&name, raw);
            config.env_problems.extend(problem);
        }
        config
    }

    /// Uses what can be used of the variable `name` whose value `raw` is not UTF-8, and says
    /// what was done, without the value (it may be a password).
    fn use_not_unicode(&mut self, name: &str, raw: OsString) -> Option<String> {
        for (variables, secure) in [
            (&env::GATEWAY, &mut self.secure),
            (&env::REMOTE_WRITE, &mut self.remote_secure),
        ] {
            let path = if name == variables.ca_file {
                &mut secure.ca_file
            } else if name == variables.client_cert_file {
                &mut secure.client_cert_file
            } else if name == variables.client_key_file {
                &mut secure.client_key_file
            } else if name == variables.bearer_token_file {
                &mut secure.bearer_token_file
            } else {
                continue;
            };
            // A path need not be text: the file is read from exactly these bytes.
            *path = Some(PathBuf::from(raw));
            return None;
        }
        if name == env::JOB {
            let job = raw.to_string_lossy().into_owned();
            let problem = format!(
                "{} is not valid UTF-8 text; the job is named {job:?} instead (its text with \
                 each invalid byte replaced by U+FFFD), not after the executable",
                env::JOB
            );
            self.job = Some(job);
            return Some(problem);
        }
        Some(format!(
            "{name} is set but its value is not valid UTF-8 text; it is ignored, as if unset \
             (the value is not shown)"
        ))
    }

    /// [`from_env`](Self::from_env) with the environment given as a function, for tests.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let path = |name: &str| get(name).map(|p| PathBuf::from(p.trim()));
        let secure = |variables: &env::ServerVariables| Secure {
            ca_file: path(variables.ca_file),
            client_cert_file: path(variables.client_cert_file),
            client_key_file: path(variables.client_key_file),
            username: get(variables.username),
            password: lookup(variables.password).filter(|p| !p.is_empty()),
            bearer_token_file: path(variables.bearer_token_file),
        };
        let mut config = Config {
            gateway: get(env::URL).map(|url| url.trim().to_owned()),
            remote_write: get(env::REMOTE_WRITE_URL).map(|url| url.trim().to_owned()),
            job: get(env::JOB),
            secure: secure(&env::GATEWAY),
            remote_secure: secure(&env::REMOTE_WRITE),
            namespace: get(env::NAMESPACE).map(|ns| ns.trim().to_owned()),
            ..Config::default()
        };
        let mut problems = Vec::new();
        for (name, bounds, default, slot) in [
            (
                env::TIMEOUT,
                env::TIMEOUT_BOUNDS,
                DEFAULT_TIMEOUT,
                &mut config.timeout,
            ),
            (
                env::PUSH_INTERVAL,
                env::PUSH_INTERVAL_BOUNDS,
                DEFAULT_PUSH_INTERVAL,
                &mut config.push_interval,
            ),
        ] {
            if let Some(text) = get(name) {
                let (value, problem) = env::duration_setting(name, &text, bounds, default);
                *slot = value;
                problems.extend(problem);
            }
        }
        if let Some(text) = get(env::EXPECTED_INTERVAL) {
            match env::parse_duration(&text) {
                Ok(env::ParsedDuration::Value(interval)) => {
                    config.expected_interval = Some(interval);
                }
                Ok(env::ParsedDuration::TooLarge) => {
                    config.expected_interval = Some(env::EXPECTED_INTERVAL_BOUNDS.max);
                }
                Err(reason) => problems.push(format!(
                    "{}={text:?} is not a duration ({reason}); no expected interval is pushed",
                    env::EXPECTED_INTERVAL
                )),
            }
        }
        if let Some(text) = get(env::QUANTILES) {
            let parsed: Result<Vec<f64>, _> =
                text.split(',').map(|q| q.trim().parse::<f64>()).collect();
            match parsed {
                Ok(quantiles) if names::quantiles_problem(&quantiles).is_none() => {
                    config.quantiles = quantiles;
                }
                _ => problems.push(format!(
                    "{}={text:?} is not a list of increasing quantiles between 0 and 1 \
                     (e.g. 0.5,0.9,0.99); no quantiles are added",
                    env::QUANTILES
                )),
            }
        }
        if let Some(text) = get(env::METHOD) {
            match text.trim().to_ascii_lowercase().as_str() {
                "put" => config.method = PushMethod::Put,
                "post" => config.method = PushMethod::Post,
                _ => problems.push(format!(
                    "{}={text:?} is neither put nor post; using put",
                    env::METHOD
                )),
            }
        }
        for (name, slot) in [
            (env::SIGNALS, &mut config.signals),
            (env::DELETE_ON_EXIT, &mut config.delete_on_exit),
        ] {
            if let Some(text) = get(name) {
                match env::parse_bool(&text) {
                    Some(flag) => *slot = flag,
                    None => problems.push(format!(
                        "{name}={text:?} is neither on nor off (true/false, 1/0, yes/no); \
                         using {}",
                        if *slot { "on" } else { "off" }
                    )),
                }
            }
        }
        for (name, slot) in [
            (env::LABELS, &mut config.labels),
            (env::GROUPING, &mut config.grouping),
        ] {
            if let Some(text) = get(name) {
                let (pairs, pair_problems) = env::parse_pairs(name, &text);
                *slot = pairs;
                problems.extend(pair_problems);
            }
        }
        // The pods of an Indexed Job push to one group each: the index is bounded by the
        // Job's completions and stays the same when a pod is retried (a pod name would leave
        // a dead group behind per pod, forever). PUSHGATEWAY_GROUPING, when set, decides.
        if get(env::GROUPING).is_none()
            && let Some(index) = get(env::JOB_COMPLETION_INDEX)
        {
            env::set_pair(
                &mut config.grouping,
                env::COMPLETION_INDEX_LABEL,
                index.trim(),
            );
        }
        config.env_problems = problems;
        config
    }

    /// The Pushgateway's base URL, e.g. `https://pushgateway:9091` (`PUSHGATEWAY_URL`; default:
    /// none, nothing is pushed). A percent-encoded `user:password@` in it is used as basic
    /// auth.
    pub fn gateway(mut self, url: &str) -> Self {
        self.gateway = Some(url.trim().to_owned());
        self
    }

    /// A Prometheus remote-write endpoint, e.g. `https://mimir:8080/api/v1/push` or
    /// `http://prometheus:9090/api/v1/write` (`PUSHTIMER_REMOTE_WRITE_URL`; default: none).
    /// The same metrics go there, instead of or beside the gateway, with the job and grouping
    /// labels on every series and each sample stamped with the time of its push. A
    /// percent-encoded `user:password@` in it is used as basic auth. Its TLS files and
    /// credentials are its own: see [`remote_write_ca_file`](Self::remote_write_ca_file) and
    /// the methods after it.
    pub fn remote_write(mut self, url: &str) -> Self {
        self.remote_write = Some(url.trim().to_owned());
        self
    }

    /// Trusts exactly the CA certificates in this PEM file for the remote-write endpoint's
    /// certificate (`PUSHTIMER_REMOTE_WRITE_CA_FILE`; default: the public Mozilla roots).
    pub fn remote_write_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.remote_secure.ca_file = Some(path.into());
        self
    }

    /// A client certificate chain and its key, both PEM, for mutual TLS with the remote-write
    /// endpoint (`PUSHTIMER_REMOTE_WRITE_CLIENT_CERT_FILE`,
    /// `PUSHTIMER_REMOTE_WRITE_CLIENT_KEY_FILE`; default: none).
    pub fn remote_write_client_cert(
        mut self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.remote_secure.set_client_cert(cert.into(), key.into());
        self
    }

    /// HTTP basic auth for the remote-write endpoint (`PUSHTIMER_REMOTE_WRITE_USERNAME`,
    /// `PUSHTIMER_REMOTE_WRITE_PASSWORD`; default: none).
    pub fn remote_write_basic_auth(mut self, username: &str, password: &str) -> Self {
        self.remote_secure.set_basic_auth(username, password);
        self
    }

    /// A bearer token for the remote-write endpoint, read from this file and read again when
    /// it changes (`PUSHTIMER_REMOTE_WRITE_BEARER_TOKEN_FILE`; default: none).
    pub fn remote_write_bearer_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.remote_secure.bearer_token_file = Some(path.into());
        self
    }

    /// The `job` grouping label (`PUSHGATEWAY_JOB`; default: the executable's file stem).
    pub fn job(mut self, job: &str) -> Self {
        self.job = Some(job.to_owned());
        self
    }

    /// Total deadline of one push, retries included, and the most the final push at exit or a
    /// [`flush`](crate::flush) waits (`PUSHGATEWAY_TIMEOUT`; default 5 s; kept between 10 ms
    /// and 5 minutes, a value outside moved to the nearer bound with a warning).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often the background thread looks for new observations and pushes them
    /// (`PUSHGATEWAY_PUSH_INTERVAL`; default 15 s; kept between 10 ms and 24 h, a value outside
    /// moved to the nearer bound with a warning). The first push comes at a random point between
    /// a tenth of the interval and the interval, later ones at the interval ± 20 %, so jobs
    /// started together do not push in lockstep; while a server answers 429 or 5xx, is
    /// unreachable or slow, the interval at least doubles, up to 16 times (at most 5 minutes),
    /// and `Retry-After` is honoured (up to 10 minutes). Unchanged state is pushed to the
    /// gateway again only every 5 minutes, as a keep-alive. The final push at exit carries
    /// everything, whatever the interval.
    pub fn push_interval(mut self, interval: Duration) -> Self {
        self.push_interval = interval;
        self
    }

    /// Trusts exactly the CA certificates in this PEM file for the gateway's certificate
    /// (`PUSHGATEWAY_CA_FILE`; default: the public Mozilla roots).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.secure.ca_file = Some(path.into());
        self
    }

    /// A client certificate chain and its key, both PEM, for mutual TLS
    /// (`PUSHGATEWAY_CLIENT_CERT_FILE`, `PUSHGATEWAY_CLIENT_KEY_FILE`; default: none).
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.secure.set_client_cert(cert.into(), key.into());
        self
    }

    /// HTTP basic auth (`PUSHGATEWAY_USERNAME`, `PUSHGATEWAY_PASSWORD`; default: none).
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        self.secure.set_basic_auth(username, password);
        self
    }

    /// A file holding a bearer token, re-read when it changes
    /// (`PUSHGATEWAY_BEARER_TOKEN_FILE`; default: none).
    pub fn bearer_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.secure.bearer_token_file = Some(path.into());
        self
    }

    /// Sets a grouping label after the job (`PUSHGATEWAY_GROUPING=instance=worker-3,shard=7`;
    /// default: none). Setting a name again replaces its value.
    pub fn grouping(mut self, name: &str, value: &str) -> Self {
        env::set_pair(&mut self.grouping, name, value);
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
    /// none). A function's own label of the same name wins; setting a name again replaces it.
    pub fn label(mut self, name: &str, value: &str) -> Self {
        env::set_pair(&mut self.labels, name, value);
        self
    }

    /// How often the job is expected to succeed, pushed as
    /// `pushtimer_job_expected_interval_seconds` so that one alert rule serves every job
    /// (`PUSHTIMER_EXPECTED_INTERVAL`, e.g. `24h`; default: none, not pushed; kept between 1 s
    /// and 10 years).
    pub fn expected_interval(mut self, interval: Duration) -> Self {
        self.expected_interval = Some(interval);
        self
    }

    /// Quantiles over the whole run for every timed function's summary that has none of its
    /// own (`PUSHTIMER_QUANTILES=0.5,0.9,0.99`; default: none). Each in (0, 1), increasing;
    /// others are refused with a warning. Histograms are not affected.
    pub fn quantiles(mut self, quantiles: &[f64]) -> Self {
        self.quantiles = quantiles.to_vec();
        self
    }

    /// On SIGTERM or SIGINT, make the final push (exit code 128 + N) and then end by that
    /// signal, as the process would have without pushtimer (`PUSHTIMER_SIGNALS`; default:
    /// on). Only a signal whose disposition is still the default when pushtimer starts is
    /// taken: an ignored signal stays ignored, and one the application handles stays its own.
    pub fn signals(mut self, on: bool) -> Self {
        self.signals = on;
        self
    }

    /// Checks the values and splits the settings into what the runtime needs; every problem
    /// found is in the returned `problems`. Reads no file: see [`PushSettings::build`].
    pub(crate) fn into_parts(self) -> Parts {
        let mut problems = self.env_problems;
        let (timeout, problem) = env::TIMEOUT_BOUNDS.clamp(env::TIMEOUT, self.timeout);
        problems.extend(problem);
        let (interval, problem) =
            env::PUSH_INTERVAL_BOUNDS.clamp(env::PUSH_INTERVAL, self.push_interval);
        problems.extend(problem);

        let namespace = self.namespace.filter(|ns| {
            let valid = names::is_valid_metric_name(ns);
            if !valid {
                problems.push(format!(
                    "{}={ns:?} is not a valid metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*); no prefix is used",
                    env::NAMESPACE
                ));
            }
            // `ns_` + name must never be one of pushtimer's own families (`pushtimer_*`).
            let own = format!("{ns}_").starts_with(names::OWN_PREFIX);
            if valid && own {
                problems.push(format!(
                    "{}={ns:?} would name the job's metrics like pushtimer's own (`pushtimer_*`); no prefix is used",
                    env::NAMESPACE
                ));
            }
            valid && !own
        });
        let mut labels = Vec::new();
        for (name, value) in self.labels {
            match names::constant_label_problem(&name) {
                None => labels.push((name, value)),
                Some(reason) => {
                    problems.push(format!("{}: label {name:?} dropped: {reason}", env::LABELS))
                }
            }
        }
        let expected_interval = self.expected_interval.map(|interval| {
            let (interval, problem) =
                env::EXPECTED_INTERVAL_BOUNDS.clamp(env::EXPECTED_INTERVAL, interval);
            problems.extend(problem);
            interval
        });
        let run = Run::new(labels.clone(), expected_interval);
        let quantiles = match names::quantiles_problem(&self.quantiles) {
            None => self.quantiles,
            Some(reason) => {
                problems.push(format!(
                    "{}: {reason}; no quantiles are added",
                    env::QUANTILES
                ));
                Vec::new()
            }
        };
        let naming = Naming {
            namespace,
            labels,
            quantiles,
        };

        Parts {
            naming,
            run,
            pushing: PushSettings {
                gateway: self.gateway,
                remote_write: self.remote_write,
                remote_secure: self.remote_secure,
                job: self.job,
                timeout,
                interval,
                method: self.method,
                delete_on_exit: self.delete_on_exit,
                signals: self.signals,
                grouping: self.grouping,
                secure: self.secure,
            },
            problems,
        }
    }
}

/// The settings of pushing, checked but not yet used: turning them into a [`Pusher`] reads
/// files and parses certificates (and the TLS library may log while doing it), so it happens
/// when the runtime starts, not while it is being created.
pub(crate) struct PushSettings {
    gateway: Option<String>,
    remote_write: Option<String>,
    remote_secure: Secure,
    job: Option<String>,
    timeout: Duration,
    interval: Duration,
    method: PushMethod,
    delete_on_exit: bool,
    signals: bool,
    grouping: Vec<(String, String)>,
    secure: Secure,
}

impl PushSettings {
    /// How to push, or why nothing is pushed (`NotConfigured` without a URL); and the problems
    /// to report (a bad file or URL, a dropped grouping pair, credentials in clear text). A
    /// destination that cannot be used is reported and left out; the other one still works.
    pub(crate) fn build(self) -> (Result<PushPlan, PushError>, Vec<String>) {
        let mut problems = Vec::new();
        let job = self.job.unwrap_or_else(default_job);
        if job.is_empty() && (self.gateway.is_some() || self.remote_write.is_some()) {
            // The job is every series' `job` label and the gateway's group: without it,
            // nothing can go anywhere.
            let error = PushError::InvalidConfig {
                setting: env::JOB,
                reason: "the job name must not be empty".into(),
            };
            problems.push(format!("{error}; nothing will be pushed"));
            return (Err(error), problems);
        }
        let grouping = checked_grouping(&self.grouping, &mut problems);
        let mut unusable = None;
        let gateway = self.gateway.as_deref().and_then(|url| {
            let built = pusher(
                url,
                &job,
                &grouping,
                self.timeout,
                &self.secure,
                &mut problems,
            );
            usable(built, &mut problems, &mut unusable)
        });
        let remote_write = self.remote_write.as_deref().and_then(|url| {
            let built = remote_writer(
                url,
                &job,
                &grouping,
                self.timeout,
                &self.remote_secure,
                &mut problems,
            );
            usable(built, &mut problems, &mut unusable)
        });
        let pushing = match (gateway, remote_write) {
            (None, None) => Err(unusable.unwrap_or(PushError::NotConfigured)),
            (gateway, remote_write) => Ok(PushPlan {
                gateway: gateway.map(|pusher| GatewayPlan {
                    pusher,
                    method: self.method,
                    delete_on_exit: self.delete_on_exit,
                }),
                remote_write,
                interval: self.interval,
                timeout: self.timeout,
                signals: self.signals,
            }),
        };
        (pushing, problems)
    }
}

/// The destination built, or `None` with the reason reported (and kept in `unusable`).
fn usable<T>(
    built: Result<T, PushError>,
    problems: &mut Vec<String>,
    unusable: &mut Option<PushError>,
) -> Option<T> {
    match built {
        Ok(built) => Some(built),
        Err(error) => {
            problems.push(format!("{error}; nothing will be pushed there"));
            *unusable = Some(error);
            None
        }
    }
}

/// The grouping pairs with valid names; a bad pair is dropped like a bad label, with a
/// problem, and the rest still applies.
fn checked_grouping(
    grouping: &[(String, String)],
    problems: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut checked = Vec::with_capacity(grouping.len());
    for (name, value) in grouping {
        match names::grouping_name_problem(name) {
            None => env::set_pair(&mut checked, name, value),
            Some(reason) => problems.push(format!("{}: {name:?} dropped: {reason}", env::GROUPING)),
        }
    }
    checked
}

/// The pusher for the group of `job` at the gateway `url`, or the setting that makes one
/// impossible; lesser problems go to `problems`.
fn pusher(
    url: &str,
    job: &str,
    grouping: &[(String, String)],
    timeout: Duration,
    secure: &Secure,
    problems: &mut Vec<String>,
) -> Result<Pusher, PushError> {
    let url = server_url(url, &env::GATEWAY, problems)?;
    let mut pusher = Pusher::from_url(url, job)?.timeout(timeout);
    for (name, value) in grouping {
        pusher = pusher.grouping(name, value)?;
    }
    secure_endpoint(pusher.endpoint_mut(), secure, problems)?;
    Ok(pusher)
}

/// The remote writer for `job` to `url`, or the setting that makes one impossible.
fn remote_writer(
    url: &str,
    job: &str,
    grouping: &[(String, String)],
    timeout: Duration,
    secure: &Secure,
    problems: &mut Vec<String>,
) -> Result<RemoteWriter, PushError> {
    let url = server_url(url, &env::REMOTE_WRITE, problems)?;
    let mut writer = RemoteWriter::new(url, job, grouping);
    writer.endpoint_mut().set_timeout(timeout);
    secure_endpoint(writer.endpoint_mut(), secure, problems)?;
    Ok(writer)
}

/// `text` as a server URL; userinfo that should have been percent-encoded is a problem.
fn server_url(
    text: &str,
    variables: &'static env::ServerVariables,
    problems: &mut Vec<String>,
) -> Result<ServerUrl, PushError> {
    let url = ServerUrl::parse(text, variables.url)?;
    if url.unencoded_userinfo {
        problems.push(format!(
            "the user:password in {} holds characters that must be percent-encoded there \
                 (/ ? # @ space %); it was read up to the last @ as written, but encode it \
                 (%2F %3F %23 %40 %20 %25) or use {} and {}",
            variables.url, variables.username, variables.password
        ));
    }
    Ok(url)
}

/// Applies the TLS files and credentials of `secure` to `endpoint`.
fn secure_endpoint(
    endpoint: &mut Endpoint,
    secure: &Secure,
    problems: &mut Vec<String>,
) -> Result<(), PushError> {
    let variables = endpoint.variables();
    if let Some(ca) = &secure.ca_file {
        endpoint.set_ca_file(ca)?;
    }
    match (&secure.client_cert_file, &secure.client_key_file) {
        (Some(cert), Some(key)) => endpoint.set_client_cert_files(cert, key)?,
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(PushError::InvalidConfig {
                setting: variables.client_cert_file,
                reason: format!(
                    "{} and {} must be set together",
                    variables.client_cert_file, variables.client_key_file
                ),
            });
        }
    }
    if let Some(token) = &secure.bearer_token_file {
        if secure.username.is_some() {
            problems.push(format!(
                "both {} and {} are set; the bearer token is used",
                variables.bearer_token_file, variables.username
            ));
        }
        endpoint.set_bearer_token_file(token)?;
    } else if let Some(username) = &secure.username {
        endpoint.set_basic_auth(username, secure.password.as_deref().unwrap_or(""));
    } else if secure.password.is_some() {
        problems.push(format!(
            "{} is set without {}; no basic auth is sent",
            variables.password, variables.username
        ));
    }
    if endpoint.sends_credentials_in_clear_text() {
        problems.push(format!(
            "{} is plain http://: the credentials travel in clear text; use https://",
            variables.url
        ));
    }
    Ok(())
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

    /// The parts with the pushing settings built, their problems added.
    fn built(config: Config) -> (Naming, Result<PushPlan, PushError>, Vec<String>) {
        let Parts {
            naming,
            pushing,
            mut problems,
            ..
        } = config.into_parts();
        let (pushing, more) = pushing.build();
        problems.extend(more);
        (naming, pushing, problems)
    }

    fn plan(pushing: Result<PushPlan, PushError>) -> PushPlan {
        match pushing {
            Ok(plan) => plan,
            Err(error) => panic!("no pusher: {error}"),
        }
    }

    #[test]
    fn defaults_without_environment() {
        let config = from(&[]);
        assert_eq!(config, Config::new());
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert_eq!(config.method, PushMethod::Put);
        assert!(!config.delete_on_exit);
        let (_naming, pushing, problems) = built(config);
        assert!(matches!(pushing, Err(PushError::NotConfigured)));
        assert!(problems.is_empty());
    }

    #[test]
    fn an_empty_job_turns_every_destination_off() {
        let config = Config::new()
            .gateway("http://h")
            .remote_write("http://h/api/v1/write")
            .job("");
        let (_naming, pushing, problems) = built(config);
        assert!(
            matches!(pushing, Err(PushError::InvalidConfig { setting, .. }) if setting == env::JOB)
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn remote_write_alone_is_a_destination_with_its_own_variables() {
        let (_naming, pushing, problems) = built(from(&[
            (env::REMOTE_WRITE_URL, "https://u:p@h/api/v1/write"),
            (env::CA_FILE, "/nonexistent/gateway-ca.pem"),
            ("PUSHTIMER_REMOTE_WRITE_CA_FILE", "/nonexistent/rw-ca.pem"),
        ]));
        // The gateway's CA is not read (no gateway); the endpoint's own is, and fails.
        assert!(
            matches!(pushing, Err(PushError::InvalidConfig { setting, .. })
            if setting == "PUSHTIMER_REMOTE_WRITE_CA_FILE")
        );
        assert!(
            problems.iter().all(|p| !p.contains("PUSHGATEWAY_CA_FILE")),
            "{problems:?}"
        );
        let (_naming, pushing, problems) = built(from(&[(
            env::REMOTE_WRITE_URL,
            "https://u:p@h/api/v1/write",
        )]));
        let plan = plan(pushing);
        assert!(plan.gateway.is_none());
        assert_eq!(
            plan.remote_write.map(|w| w.url().to_owned()),
            Some("https://h/api/v1/write".to_owned())
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn bad_timeout_is_reported_and_defaulted() {
        let (_naming, pushing, problems) =
            built(from(&[(env::URL, "http://h"), (env::TIMEOUT, "banana")]));
        assert_eq!(problems.len(), 1, "{:?}", problems);
        assert!(problems[0].contains("PUSHGATEWAY_TIMEOUT"));
        assert_eq!(plan(pushing).timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn durations_from_env_and_builder_share_one_set_of_bounds() {
        for (timeout, interval) in [
            (Duration::MAX, Duration::MAX),
            (Duration::ZERO, Duration::ZERO),
            (Duration::from_nanos(1), Duration::from_nanos(1)),
        ] {
            let (_naming, pushing, problems) = built(
                Config::new()
                    .gateway("http://h")
                    .timeout(timeout)
                    .push_interval(interval),
            );
            assert_eq!(problems.len(), 2, "{:?}", problems);
            let plan = plan(pushing);
            assert!(plan.timeout >= env::TIMEOUT_BOUNDS.min);
            assert!(plan.timeout <= env::TIMEOUT_BOUNDS.max);
            assert!(plan.interval >= env::PUSH_INTERVAL_BOUNDS.min);
            assert!(plan.interval <= env::PUSH_INTERVAL_BOUNDS.max);
        }
        for text in ["1e19", "300000000000y", "0", "1ns"] {
            let (_naming, pushing, problems) = built(from(&[
                (env::URL, "http://h"),
                (env::TIMEOUT, text),
                (env::PUSH_INTERVAL, text),
            ]));
            assert_eq!(problems.len(), 2, "{text}: {:?}", problems);
            let plan = plan(pushing);
            assert!(plan.timeout <= env::TIMEOUT_BOUNDS.max);
            assert!(plan.interval >= env::PUSH_INTERVAL_BOUNDS.min);
        }
    }

    #[test]
    fn bad_label_pairs_are_dropped_and_the_rest_kept() {
        let (naming, _pushing, problems) = built(from(&[(
            env::LABELS,
            "team=ml, oops ,job=x,__a=1,project=seg",
        )]));
        assert_eq!(
            naming.labels,
            vec![
                ("team".to_owned(), "ml".to_owned()),
                ("project".to_owned(), "seg".to_owned())
            ]
        );
        assert_eq!(problems.len(), 3, "{:?}", problems);
        assert!(problems.iter().all(|p| p.contains("PUSHTIMER_LABELS")));
    }

    #[test]
    fn bad_namespace_is_dropped() {
        let (naming, _pushing, problems) = built(from(&[(env::NAMESPACE, "a-b")]));
        assert_eq!(naming.namespace, None);
        assert!(problems[0].contains("PUSHTIMER_NAMESPACE"));
        let (naming, _pushing, _problems) = built(from(&[(env::NAMESPACE, "ns")]));
        assert_eq!(naming.namespace.as_deref(), Some("ns"));
    }

    #[test]
    fn a_namespace_that_names_pushtimers_own_metrics_is_dropped() {
        for own in ["pushtimer", "pushtimer_x"] {
            let (naming, _pushing, problems) = built(from(&[(env::NAMESPACE, own)]));
            assert_eq!(naming.namespace, None, "{own}");
            assert!(problems[0].contains("pushtimer's own"), "{problems:?}");
        }
        let (naming, _pushing, problems) = built(from(&[(env::NAMESPACE, "pushtimers")]));
        assert_eq!(
            naming.namespace.as_deref(),
            Some("pushtimers"),
            "{problems:?}"
        );
    }

    #[test]
    fn le_is_a_reserved_label() {
        let (naming, _pushing, problems) = built(from(&[(env::LABELS, "le=1,team=ml")]));
        assert_eq!(naming.labels, [("team".to_owned(), "ml".to_owned())]);
        assert!(problems[0].contains("\"le\" dropped"), "{problems:?}");
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = from(&[(env::URL, " "), (env::JOB, "")]);
        assert_eq!(config.gateway, None);
        assert_eq!(config.job, None);
    }

    #[test]
    fn method_and_delete_on_exit() {
        let config = from(&[(env::METHOD, "POST"), (env::DELETE_ON_EXIT, "true")]);
        assert_eq!(config.method, PushMethod::Post);
        assert!(config.delete_on_exit);
        let config = from(&[(env::METHOD, "patch"), (env::DELETE_ON_EXIT, "maybe")]);
        assert_eq!(config.method, PushMethod::Put);
        assert!(!config.delete_on_exit);
        assert_eq!(config.env_problems.len(), 2, "{:?}", config.env_problems);
    }

    #[test]
    fn grouping_builds_the_path_and_drops_bad_names() {
        let (_naming, pushing, problems) = built(from(&[
            (env::URL, "http://h:9091"),
            (env::JOB, "j"),
            (env::GROUPING, "instance=worker-3,job=x,shard=a/b,bad"),
        ]));
        assert_eq!(problems.len(), 2, "{:?}", problems);
        assert!(problems.iter().all(|p| p.contains("PUSHGATEWAY_GROUPING")));
        assert_eq!(
            plan(pushing).gateway.expect("a gateway").pusher.url(),
            "http://h:9091/metrics/job/j/instance/worker-3/shard@base64/YS9i"
        );
    }

    #[test]
    fn an_indexed_job_pod_groups_by_its_completion_index_unless_told_otherwise() {
        let config = from(&[(env::JOB_COMPLETION_INDEX, "3")]);
        assert_eq!(
            config.grouping,
            vec![("completion_index".to_owned(), "3".to_owned())]
        );
        let config = from(&[(env::JOB_COMPLETION_INDEX, "3"), (env::GROUPING, "shard=a")]);
        assert_eq!(config.grouping, vec![("shard".to_owned(), "a".to_owned())]);
        assert!(from(&[]).grouping.is_empty());
    }

    #[test]
    fn quantiles_from_the_environment_are_checked() {
        let (naming, _, problems) = built(from(&[(env::QUANTILES, "0.5, 0.99")]));
        assert_eq!(naming.quantiles, vec![0.5, 0.99]);
        assert!(problems.is_empty(), "{problems:?}");
        for bad in ["0.5,1", "banana", "0.9,0.5", "0"] {
            let (naming, _, problems) = built(from(&[(env::QUANTILES, bad)]));
            assert!(naming.quantiles.is_empty(), "{bad}");
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert!(problems[0].contains("PUSHTIMER_QUANTILES"), "{problems:?}");
        }
    }

    #[test]
    fn files_are_checked_at_start_up() {
        let (_naming, pushing, problems) = built(from(&[
            (env::URL, "https://h"),
            (env::CA_FILE, "/nonexistent/ca.pem"),
        ]));
        let error = pushing.err().unwrap().to_string();
        assert!(error.contains("PUSHGATEWAY_CA_FILE"), "{error}");
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("nothing will be pushed"))
        );
        let (_naming, pushing, _problems) = built(from(&[
            (env::URL, "https://h"),
            (env::CLIENT_CERT_FILE, "/nonexistent/c.pem"),
        ]));
        let error = pushing.err().unwrap().to_string();
        assert!(error.contains("PUSHGATEWAY_CLIENT_KEY_FILE"), "{error}");
    }

    #[test]
    fn secrets_never_show() {
        for url in [
            "https://u:hunter2@h",
            "https://u:hun/ter2@h:9091",
            "https://u:hun#ter2@h",
            "https://u:hun?ter2@h",
            "https://u:hun@ter2@h",
            "ftp://u:hun/ter2@h",
            "u:hun/ter2@h",
            "https://u:hun/ter2@h:notaport",
        ] {
            let config = from(&[
                (env::URL, url),
                (env::USERNAME, "u"),
                (env::PASSWORD, "hunter2"),
            ]);
            let debug = format!("{config:?}");
            let (_naming, pushing, problems) = built(config);
            let error = pushing
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default();
            for shown in [debug, error, problems.join("\n")] {
                assert!(
                    !shown.contains("hunter2") && !shown.contains("ter2"),
                    "{url}: {shown}"
                );
            }
        }
    }

    #[test]
    fn the_default_job_is_the_executables_stem() {
        // Told apart from the code under test: the stem of the path this test binary was run
        // as (cargo runs it by its full path, `.../deps/pushtimer-<hash>`).
        let argv0 = std::env::args().next().expect("argv[0]");
        let stem = std::path::Path::new(&argv0)
            .file_stem()
            .and_then(|stem| stem.to_str())
            .expect("a stem")
            .to_owned();
        assert!(stem.starts_with("pushtimer-"), "{stem}");
        let (_naming, pushing, _problems) = built(from(&[(env::URL, "http://gw:9091")]));
        assert_eq!(
            plan(pushing).gateway.expect("a gateway").pusher.url(),
            format!("http://gw:9091/metrics/job/{stem}")
        );
    }

    #[test]
    fn unencoded_userinfo_is_warned_about() {
        let (_naming, pushing, problems) = built(from(&[
            (env::URL, "https://batch:Zm9v/YmFy+==@gw:9091"),
            (env::JOB, "j"),
        ]));
        assert!(
            problems.iter().any(|p| p.contains("percent-encoded")),
            "{:?}",
            problems
        );
        assert_eq!(
            plan(pushing).gateway.expect("a gateway").pusher.url(),
            "https://gw:9091/metrics/job/j"
        );
        let (_naming, _pushing, problems) = built(from(&[(
            env::URL,
            "https://batch:Zm9v%2FYmFy%2B%3D%3D@gw:9091",
        )]));
        assert!(problems.is_empty(), "{:?}", problems);
    }

    #[cfg(unix)]
    #[test]
    fn values_that_are_not_utf8_are_never_dropped_silently() {
        use std::os::unix::ffi::OsStrExt;
        let raw = |bytes: &[u8]| std::ffi::OsStr::from_bytes(bytes).to_owned();
        let vars = [
            (env::URL, raw(b"http://h:9091")),
            (env::JOB, raw(b"etl-\xff")),
            (env::PASSWORD, raw(b"hunter2\xfe")),
            (env::USERNAME, raw(b"u")),
            (env::GROUPING, raw(b"shard=\xff")),
            (env::CA_FILE, raw(b"/etc/ca-\xff.pem")),
        ];
        let config = Config::from_os_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        });
        // The path is used as it is, and not warned about.
        assert_eq!(
            config
                .secure
                .ca_file
                .as_deref()
                .map(|p| p.as_os_str().as_bytes()),
            Some(&b"/etc/ca-\xff.pem"[..])
        );
        // The job keeps its text, not the executable's name.
        assert_eq!(config.job.as_deref(), Some("etl-\u{fffd}"));
        assert_eq!(config.secure.password, None);
        assert!(config.grouping.is_empty());
        let problems = &config.env_problems;
        assert_eq!(problems.len(), 3, "{problems:?}");
        for (problem, name) in problems
            .iter()
            .zip([env::JOB, env::PASSWORD, env::GROUPING])
        {
            assert!(problem.starts_with(name), "{problem}");
            assert!(!problem.contains("hunter2"), "{problem}");
        }
        assert!(problems[0].contains("etl-\u{fffd}"), "{problems:?}");
    }

    #[test]
    fn basic_auth_over_http_is_reported() {
        let (_naming, pushing, problems) = built(from(&[
            (env::URL, "http://h"),
            (env::USERNAME, "u"),
            (env::PASSWORD, "p"),
        ]));
        assert!(pushing.is_ok());
        assert!(problems.iter().any(|p| p.contains("clear text")));
    }
}
