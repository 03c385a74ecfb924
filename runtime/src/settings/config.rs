//! [`Config`]: every setting, read from the environment (`from_env.rs`) or set in code, and
//! checked once when it takes effect (`checked.rs`). Installing it is the runtime's business
//! (`lifecycle/global.rs`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::settings::env;
use crate::settings::server::Server;

/// Default of [`Config::timeout`]: 5 s.
pub const DEFAULT_TIMEOUT: Duration = env::DEFAULT_TIMEOUT;
/// Default of [`Config::push_interval`]: 15 s, the scrape interval most Prometheus setups use
/// (pushing more often than the gateway is scraped shows nothing more; see `docs/scale.md`).
pub const DEFAULT_PUSH_INTERVAL: Duration = env::DEFAULT_PUSH_INTERVAL;
/// Default of [`Config::cardinality_limit`]: 2,000 label sets per metric name.
pub const DEFAULT_CARDINALITY_LIMIT: usize = env::DEFAULT_CARDINALITY_LIMIT;
/// The schema of a native histogram that names none (`#[timed(native_histogram)]`,
/// [`HistogramBuilder::native`](crate::HistogramBuilder::native),
/// [`Config::native_histograms`]): 5, 32 buckets per power of two, each 2.2 % wider than the
/// one below, so `histogram_quantile` is within about 2.2 % of the true value. A series that
/// would need more than 160 buckets is sent at a lower schema (each step halves the buckets
/// and doubles their width), as client_golang and OpenTelemetry do.
pub const DEFAULT_NATIVE_SCHEMA: i32 = env::DEFAULT_NATIVE_SCHEMA;

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
/// bad label is dropped) or, for durations, moved into bounds. A destination that cannot be
/// used (a file that cannot be read, a port that is taken) is left out, with one warning naming
/// the variable; the others still work. `Debug` never shows passwords.
#[derive(Clone, PartialEq)]
#[must_use = "a Config does nothing until .install() is called"]
pub struct Config {
    pub(crate) gateway: Option<Server>,
    pub(crate) remote_write: Option<Server>,
    pub(crate) textfile: Option<PathBuf>,
    pub(crate) listen: Option<String>,
    pub(crate) job: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) push_interval: Duration,
    pub(crate) grouping: Vec<(String, String)>,
    pub(crate) method: PushMethod,
    pub(crate) delete_on_exit: bool,
    pub(crate) namespace: Option<String>,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) expected_interval: Option<Duration>,
    pub(crate) signals: bool,
    pub(crate) quantiles: Vec<f64>,
    pub(crate) cardinality_limit: usize,
    pub(crate) native_histograms: bool,
    /// `PUSHTIMER_VERSION`, as read; it wins over [`version`](Self::version).
    pub(crate) version_from_env: Option<String>,
    /// [`Config::version`], as set.
    pub(crate) version: Option<String>,
    /// Values in the environment that could not be read as they were written.
    pub(crate) env_problems: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gateway: None,
            remote_write: None,
            textfile: None,
            listen: None,
            job: None,
            timeout: DEFAULT_TIMEOUT,
            push_interval: DEFAULT_PUSH_INTERVAL,
            grouping: Vec::new(),
            method: PushMethod::Put,
            delete_on_exit: false,
            namespace: None,
            labels: Vec::new(),
            expected_interval: None,
            signals: true,
            quantiles: Vec::new(),
            cardinality_limit: DEFAULT_CARDINALITY_LIMIT,
            native_histograms: false,
            version_from_env: None,
            version: None,
            env_problems: Vec::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Server`'s own `Debug` shows no password.
        f.debug_struct("Config")
            .field("gateway", &self.gateway)
            .field("remote_write", &self.remote_write)
            .field("textfile", &self.textfile)
            .field("listen", &self.listen)
            .field("job", &self.job)
            .field("timeout", &self.timeout)
            .field("push_interval", &self.push_interval)
            .field("grouping", &self.grouping)
            .field("method", &self.method)
            .field("delete_on_exit", &self.delete_on_exit)
            .field("namespace", &self.namespace)
            .field("labels", &self.labels)
            .field("expected_interval", &self.expected_interval)
            .field("signals", &self.signals)
            .field("quantiles", &self.quantiles)
            .field("cardinality_limit", &self.cardinality_limit)
            .field("native_histograms", &self.native_histograms)
            .field("version_from_env", &self.version_from_env)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// All defaults, ignoring the environment: nothing is pushed until a destination
    /// ([`gateway`](Self::gateway), say) is set.
    pub fn new() -> Self {
        Config::default()
    }

    /// The Pushgateway, e.g. `"https://pushgateway:9091"` or a [`Server`] with its TLS files
    /// and credentials (`PUSHGATEWAY_URL` and the `PUSHGATEWAY_*` variables of the server;
    /// default: none). Replaces the gateway set before, with its files and credentials.
    pub fn gateway(mut self, server: impl Into<Server>) -> Self {
        self.gateway = Some(server.into());
        self
    }

    /// A Prometheus remote-write endpoint, e.g. `"https://mimir:8080/api/v1/push"` or
    /// `"http://prometheus:9090/api/v1/write"`, or a [`Server`] with its own TLS files and
    /// credentials (`PUSHTIMER_REMOTE_WRITE_URL` and the `PUSHTIMER_REMOTE_WRITE_*` variables;
    /// default: none). The same metrics go there, instead of or beside the other destinations,
    /// with the job and grouping labels on every series and each sample stamped with the time
    /// of its write.
    pub fn remote_write(mut self, server: impl Into<Server>) -> Self {
        self.remote_write = Some(server.into());
        self
    }

    /// A file for the node exporter's textfile collector, e.g.
    /// `/var/lib/node_exporter/textfile_collector/nightly_etl.prom` (`PUSHTIMER_TEXTFILE`;
    /// default: none): the metrics are written there at every round and at exit, atomically
    /// (a temporary file in the same directory, renamed over it), for a job tied to one host.
    pub fn textfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.textfile = Some(path.into());
        self
    }

    /// Serves the metrics at `http://<address>/metrics` while the job runs, e.g.
    /// `127.0.0.1:9464`, `[::1]:9464` or `:9464` for every IPv4 interface (`PUSHTIMER_LISTEN`;
    /// default: none), for jobs that run long enough to be scraped.
    pub fn listen(mut self, address: &str) -> Self {
        self.listen = Some(address.trim().to_owned());
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

    /// A prefix for the name of every series pushtimer makes for you (timed functions,
    /// `count!`, hand-made summaries, histograms, counters and gauges): `ns` turns `x_seconds` into `ns_x_seconds`
    /// (`PUSHTIMER_NAMESPACE`; default: none). Not for pushtimer's own `pushtimer_*` families,
    /// and not for metrics you register in [`registry`](crate::registry), whose names are
    /// yours (it shows how to give them the same prefix).
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// A constant label on every series pushtimer makes (timed functions, `count!`, hand-made
    /// summaries, histograms, counters and gauges, the job's own `pushtimer_*` gauges) (`PUSHTIMER_LABELS=team=ml,project=seg`;
    /// default: none). A function's own label of the same name wins; setting a name again
    /// replaces it. Not on metrics you register in [`registry`](crate::registry): it shows
    /// how to give them the same labels.
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

    /// The program's version, the `version` label of `pushtimer_job_info` (default: the
    /// `CARGO_PKG_VERSION` of the binary crate, which the code `#[timed]` generates there
    /// hands over on the first call of one of that crate's timed functions; unknown, and the
    /// label left out, before that call or when all the timed functions are in libraries).
    /// `Config::from_env().version(env!("CARGO_PKG_VERSION"))` in `main` has it from the first
    /// push. `PUSHTIMER_VERSION`, when set, wins even over this: it is the deployment's word
    /// (an image tag, a git SHA). Trimmed; more than 128 characters or a control character is
    /// refused with a warning. A label, never part of the grouping key.
    ///
    /// ```
    /// let config = pushtimer::Config::from_env().version(env!("CARGO_PKG_VERSION"));
    /// # let _ = config;
    /// ```
    pub fn version(mut self, version: &str) -> Self {
        self.version = Some(version.to_owned());
        self
    }

    /// Quantiles over the whole run for every timed function's summary that has none of its
    /// own (`PUSHTIMER_QUANTILES=0.5,0.9,0.99`; default: none). Each in (0, 1), increasing;
    /// others are refused with a warning. Histograms are not affected.
    pub fn quantiles(mut self, quantiles: &[f64]) -> Self {
        self.quantiles = quantiles.to_vec();
        self
    }

    /// The most label sets one metric name gets (`PUSHTIMER_CARDINALITY_LIMIT`; default
    /// [`DEFAULT_CARDINALITY_LIMIT`], 2,000, as OpenTelemetry's SDKs; kept between 1 and
    /// 1,000,000). Each series costs memory for the whole run and a line in every push, and a
    /// label value made from data (a user id, a file name) can make millions: past the limit,
    /// every new label set of that metric is recorded in its one series labelled
    /// `pushtimer_overflow="true"` (with the process-wide labels only), with one warning
    /// naming the metric. Label sets seen before the limit was reached keep their series.
    ///
    /// ```
    /// let config = pushtimer::Config::new().cardinality_limit(100);
    /// # let _ = config;
    /// ```
    pub fn cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = limit;
        self
    }

    /// Native (exponential) buckets on every histogram, beside its classic ones
    /// (`PUSHTIMER_NATIVE_HISTOGRAMS=on`; default: off), at schema
    /// [`DEFAULT_NATIVE_SCHEMA`](crate::DEFAULT_NATIVE_SCHEMA). A histogram asked for as a
    /// native one (`#[timed(native_histogram)]`, [`HistogramBuilder::native`](crate::HistogramBuilder::native))
    /// has them either way. Summaries are not affected.
    pub fn native_histograms(mut self, on: bool) -> Self {
        self.native_histograms = on;
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
}
