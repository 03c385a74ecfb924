//! What a [`Config`] turns into when it takes effect: every value checked once (names,
//! labels, quantiles, grouping pairs, durations moved into their bounds), each problem kept to
//! be reported once at start-up. Still plain data: no file is read here (see
//! `destinations/mod.rs`, which builds the destinations from [`PushSettings`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::settings::config::{Config, PushMethod};
use crate::settings::env;
use crate::settings::names;
use crate::settings::server::Server;

/// The name prefix and constant labels every series gets (`PUSHTIMER_NAMESPACE`,
/// `PUSHTIMER_LABELS`), already validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Naming {
    pub(crate) namespace: Option<String>,
    pub(crate) labels: Vec<(String, String)>,
    /// `PUSHTIMER_QUANTILES`: the quantiles of every timed function's summary.
    pub(crate) quantiles: Vec<f64>,
    /// `PUSHTIMER_CARDINALITY_LIMIT`, within its bounds.
    pub(crate) cardinality_limit: usize,
    /// `PUSHTIMER_NATIVE_HISTOGRAMS`: native buckets on every histogram.
    pub(crate) native_histograms: bool,
}

impl Default for Naming {
    fn default() -> Self {
        Naming {
            namespace: None,
            labels: Vec::new(),
            quantiles: Vec::new(),
            cardinality_limit: env::DEFAULT_CARDINALITY_LIMIT,
            native_histograms: false,
        }
    }
}

/// What a [`Config`] turns into when it takes effect.
pub(crate) struct Parts {
    pub(crate) naming: Naming,
    /// `PUSHTIMER_EXPECTED_INTERVAL`, within its bounds.
    pub(crate) expected_interval: Option<Duration>,
    /// The program's version as configured (`PUSHTIMER_VERSION`, else `Config::version`),
    /// trimmed and checked; `None` leaves it to the binary crate's (`store/run.rs`).
    pub(crate) version: Option<String>,
    /// How to push, once the runtime starts.
    pub(crate) pushing: PushSettings,
    /// Everything to warn about, once, when the runtime starts.
    pub(crate) problems: Vec<String>,
}

/// The settings of the destinations, checked but not yet used: building a destination reads
/// files and parses certificates (and the TLS library may log while doing it), or binds a
/// port, so it happens when the runtime starts, not while it is being created.
pub(crate) struct PushSettings {
    pub(crate) gateway: Option<Server>,
    pub(crate) remote_write: Option<Server>,
    pub(crate) textfile: Option<PathBuf>,
    pub(crate) listen: Option<String>,
    /// `PUSHGATEWAY_JOB` as set; its default (the executable's name) is looked up when the
    /// destinations are built ([`PushSettings::job`]).
    pub(crate) job: Option<String>,
    /// The grouping pairs with valid names.
    pub(crate) grouping: Vec<(String, String)>,
    /// The deadline of a request, for every destination, within its bounds.
    pub(crate) timeout: Duration,
    /// The push interval, within its bounds.
    pub(crate) interval: Duration,
    pub(crate) method: PushMethod,
    pub(crate) delete_on_exit: bool,
    /// Take SIGTERM and SIGINT for a final push.
    pub(crate) signals: bool,
}

impl PushSettings {
    /// The job's name: `PUSHGATEWAY_JOB`, else the executable's file stem.
    pub(crate) fn job(&self) -> String {
        self.job.clone().unwrap_or_else(default_job)
    }

    /// Whether any destination is set at all.
    pub(crate) fn any_destination(&self) -> bool {
        self.gateway.is_some()
            || self.remote_write.is_some()
            || self.textfile.is_some()
            || self.listen.is_some()
    }
}

impl Config {
    /// Checks the values and splits the settings into what the runtime needs; every problem
    /// found is in the returned `problems`. Reads no file: the destinations are built from it later (`destinations::build`).
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
        let (lowest, highest) = env::CARDINALITY_LIMIT_BOUNDS;
        let cardinality_limit = self.cardinality_limit.clamp(lowest, highest);
        if cardinality_limit != self.cardinality_limit {
            problems.push(format!(
                "{}={} is out of bounds; using {cardinality_limit} (between {lowest} and {highest})",
                env::CARDINALITY_LIMIT,
                self.cardinality_limit
            ));
        }
        let naming = Naming {
            namespace,
            labels,
            quantiles,
            cardinality_limit,
            native_histograms: self.native_histograms,
        };

        let grouping = checked_grouping(&self.grouping, &mut problems);
        let version = checked_version(
            self.version_from_env.as_deref(),
            self.version.as_deref(),
            &mut problems,
        );
        Parts {
            naming,
            expected_interval,
            version,
            pushing: PushSettings {
                gateway: self.gateway,
                remote_write: self.remote_write,
                textfile: self.textfile,
                listen: self.listen,
                job: self.job,
                grouping,
                timeout,
                interval,
                method: self.method,
                delete_on_exit: self.delete_on_exit,
                signals: self.signals,
            },
            problems,
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

/// The program's version: `PUSHTIMER_VERSION`, else `Config::version`, each trimmed. A blank
/// one counts as unset; one of more than [`env::VERSION_MAX_CHARS`] characters or with a
/// control character (a line break: a file's content, say) is refused with a problem, and the
/// next in line is used. `None`: neither, so the binary crate's version, when known.
fn checked_version(
    from_env: Option<&str>,
    in_code: Option<&str>,
    problems: &mut Vec<String>,
) -> Option<String> {
    [(env::VERSION, from_env), ("Config::version", in_code)]
        .into_iter()
        .find_map(|(setting, version)| {
            let version = version?.trim();
            let chars = version.chars().count();
            if chars > env::VERSION_MAX_CHARS {
                problems.push(format!(
                    "{setting} is ignored: it has {chars} characters, more than the {} a \
                     version may have",
                    env::VERSION_MAX_CHARS
                ));
                None
            } else if version.chars().any(char::is_control) {
                problems.push(format!(
                    "{setting}={version:?} is ignored: a version is one line of text, without \
                     control characters"
                ));
                None
            } else {
                (!version.is_empty()).then(|| version.to_owned())
            }
        })
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
