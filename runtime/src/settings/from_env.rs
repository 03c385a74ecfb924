//! [`Config::from_env`]: the settings as the environment gives them (the README's table).
//! Text is read here; values are checked when the configuration takes effect (`checked.rs`).

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::PathBuf;

use crate::settings::config::{Config, DEFAULT_PUSH_INTERVAL, DEFAULT_TIMEOUT, PushMethod};
use crate::settings::env;
use crate::settings::names;
use crate::settings::server::Server;

impl Config {
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
        for (variables, server) in [
            (&env::GATEWAY, &mut self.gateway),
            (&env::REMOTE_WRITE, &mut self.remote_write),
        ] {
            let is_path = [
                variables.ca_file,
                variables.client_cert_file,
                variables.client_key_file,
                variables.bearer_token_file,
            ]
            .contains(&name);
            if !is_path {
                continue;
            }
            // A path need not be text: the file is read from exactly these bytes. Without the
            // server's URL the file is never used.
            if let Some(server) = server {
                let path = PathBuf::from(raw);
                if name == variables.ca_file {
                    server.ca_file = Some(path);
                } else if name == variables.client_cert_file {
                    server.client_cert_file = Some(path);
                } else if name == variables.client_key_file {
                    server.client_key_file = Some(path);
                } else {
                    server.bearer_token_file = Some(path);
                }
            }
            return None;
        }
        if name == env::TEXTFILE {
            self.textfile = Some(PathBuf::from(raw));
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
        // A server is read only when its URL is set: its other variables say how to reach it.
        let server = |variables: &env::ServerVariables| {
            get(variables.url).map(|url| Server {
                url: url.trim().to_owned(),
                ca_file: path(variables.ca_file),
                client_cert_file: path(variables.client_cert_file),
                client_key_file: path(variables.client_key_file),
                username: get(variables.username),
                password: lookup(variables.password).filter(|p| !p.is_empty()),
                bearer_token_file: path(variables.bearer_token_file),
            })
        };
        let mut config = Config {
            gateway: server(&env::GATEWAY),
            remote_write: server(&env::REMOTE_WRITE),
            textfile: path(env::TEXTFILE),
            listen: get(env::LISTEN).map(|address| address.trim().to_owned()),
            job: get(env::JOB),
            namespace: get(env::NAMESPACE).map(|ns| ns.trim().to_owned()),
            version_from_env: get(env::VERSION),
            ..Config::default()
        };
        let mut problems = Vec::new();
        // Durations are only read here; each is bounded once, when the configuration takes
        // effect (`checked.rs`), whether it came from here or from the builder.
        for (name, default, slot) in [
            (env::TIMEOUT, DEFAULT_TIMEOUT, &mut config.timeout),
            (
                env::PUSH_INTERVAL,
                DEFAULT_PUSH_INTERVAL,
                &mut config.push_interval,
            ),
        ] {
            if let Some(text) = get(name) {
                match env::parse_duration(&text) {
                    Ok(duration) => *slot = duration,
                    Err(reason) => problems.push(format!(
                        "{name}={text:?} is not a duration ({reason}); using the default {}",
                        env::show(default)
                    )),
                }
            }
        }
        if let Some(text) = get(env::EXPECTED_INTERVAL) {
            match env::parse_duration(&text) {
                Ok(interval) => config.expected_interval = Some(interval),
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
        if let Some(text) = get(env::CARDINALITY_LIMIT) {
            match text.trim().replace('_', "").parse::<usize>() {
                Ok(limit) => config.cardinality_limit = limit,
                Err(_) => problems.push(format!(
                    "{}={text:?} is not a whole number of label sets; using the default {}",
                    env::CARDINALITY_LIMIT,
                    env::DEFAULT_CARDINALITY_LIMIT
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
            (env::NATIVE_HISTOGRAMS, &mut config.native_histograms),
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
}
