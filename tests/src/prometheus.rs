//! A real Prometheus (Debian's `prometheus`, 2.42): a child process on a free loopback port
//! that scrapes a [`Gateway`] every second with `honor_labels: true` (or other targets as the
//! scrape job `listen`, or, as a remote-write receiver, takes `POST /api/v1/write`), evaluates
//! the given rule files every second, keeps its data in a throw-away directory, and is killed
//! on drop. [`query_api`] also serves other servers that answer PromQL (VictoriaMetrics).
//!
//! Missing binary: [`Prometheus::start`] returns `None` after saying the test was skipped, or
//! fails the test when `PUSHTIMER_REQUIRE_PUSHGATEWAY=1` (as in CI).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::server::{Binary, ServerProcess, poll_until, spawn};
use crate::tls::{Pki, SecureClient, Security, TempDir, web_config};
use crate::{Gateway, free_port, http_get};

/// One element of an instant vector: its labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The series' labels, `__name__` included when the query keeps it.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// A Prometheus child process scraping one gateway. Killed on drop.
pub struct Prometheus {
    process: ServerProcess,
    port: u16,
    _dir: TempDir,
    _web: Option<TempDir>,
}

impl Prometheus {
    /// Starts Prometheus scraping `gateway` with `rule_files` loaded, and waits until it is
    /// ready; `None` (after saying so) when the binary is not installed.
    pub fn start(test: &str, gateway: &Gateway, rule_files: &[&Path]) -> Option<Prometheus> {
        let scrape = format!(
            "scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    \
             static_configs:\n      - targets: [\"127.0.0.1:{}\"]\n",
            gateway.port()
        );
        Prometheus::launch(test, &scrape, rule_files, &[], None)
    }

    /// [`start`](Self::start) with native histograms on (`--enable-feature=native-histograms`):
    /// it scrapes the gateway in the protobuf format, which carries them.
    pub fn start_native(test: &str, gateway: &Gateway) -> Option<Prometheus> {
        let scrape = format!(
            "scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    \
             static_configs:\n      - targets: [\"127.0.0.1:{}\"]\n",
            gateway.port()
        );
        Prometheus::launch(
            test,
            &scrape,
            &[],
            &["--enable-feature=native-histograms"],
            None,
        )
    }

    /// [`start_receiver`](Self::start_receiver) with native histograms on.
    pub fn start_native_receiver(test: &str) -> Option<Prometheus> {
        Prometheus::launch(
            test,
            "",
            &[],
            &[
                "--web.enable-remote-write-receiver",
                "--enable-feature=native-histograms",
            ],
            None,
        )
    }

    /// Starts Prometheus scraping `targets` (`ip:port`, a job's `PUSHTIMER_LISTEN`, say) at
    /// `/metrics` every second as the scrape job `listen`, without `honor_labels`: each series
    /// scraped gets the target's labels `job="listen"` and `instance="<target>"`, as from any
    /// exporter. Waits until it is ready (not until a target is up); `None` (after saying so)
    /// when the binary is not installed.
    pub fn start_scraping(test: &str, targets: &[String]) -> Option<Prometheus> {
        let targets: Vec<String> = targets.iter().map(|target| format!("{target:?}")).collect();
        let scrape = format!(
            "scrape_configs:\n  - job_name: listen\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        );
        Prometheus::launch(test, &scrape, &[], &[], None)
    }

    /// Starts Prometheus as a remote-write receiver (`--web.enable-remote-write-receiver`,
    /// nothing scraped) with `rule_files` loaded; see [`write_url`](Self::write_url).
    pub fn start_receiver(test: &str, rule_files: &[&Path]) -> Option<Prometheus> {
        Prometheus::launch(
            test,
            "",
            rule_files,
            &["--web.enable-remote-write-receiver"],
            None,
        )
    }

    /// [`start_receiver`](Self::start_receiver) behind TLS, mutual TLS and basic auth as
    /// `security` says (`--web.config.file`); talk to it with the returned client, on
    /// [`port`](Self::port).
    pub fn start_secure_receiver(
        test: &str,
        pki: &Pki,
        security: Security<'_>,
    ) -> Option<(Prometheus, SecureClient)> {
        let client = SecureClient::new(pki, security);
        let web = TempDir::new(&format!("prometheus_web_{test}"));
        let config = web.write("web-config.yml", web_config(pki, security));
        let flag = format!("--web.config.file={}", config.display());
        let prometheus = Prometheus::launch(
            test,
            "",
            &[],
            &["--web.enable-remote-write-receiver", &flag],
            Some(&client),
        )?;
        let mut prometheus = prometheus;
        // The web config must outlive the server, which reads it on every connection.
        prometheus._web = Some(web);
        Some((prometheus, client))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where remote write goes: `http://127.0.0.1:<port>/api/v1/write`.
    pub fn write_url(&self) -> String {
        format!("{}/api/v1/write", self.url())
    }

    fn launch(
        test: &str,
        scrape: &str,
        rule_files: &[&Path],
        flags: &[&str],
        secure: Option<&SecureClient>,
    ) -> Option<Prometheus> {
        let binary = PROMETHEUS.or_skip(test)?;
        let dir = TempDir::new(&format!("prometheus_{test}"));
        let rules: Vec<String> = rule_files
            .iter()
            .map(|path| format!("  - {:?}\n", path.display().to_string()))
            .collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n{}{scrape}",
            rules.concat(),
        );
        let config_path = dir.write("prometheus.yml", config);
        let port = free_port();
        let mut args: Vec<String> = flags.iter().map(|flag| (*flag).to_owned()).collect();
        args.extend([
            format!("--config.file={}", config_path.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--log.level=warn".to_owned(),
        ]);
        let process = spawn(&binary, &args, Stdio::null());
        let mut prometheus = Prometheus {
            process,
            port,
            _dir: dir,
            _web: None,
        };
        match secure {
            None => prometheus.wait_ready(),
            Some(client) => prometheus.process.wait_until_ready("Prometheus", || {
                matches!(client.request(port, "GET", "/-/ready", None), Ok((200, _)))
            }),
        }
        Some(prometheus)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) {
        let url = self.url();
        self.process.wait_ready(&url, "Prometheus");
    }
}

/// A server that answers PromQL over plain HTTP (Prometheus, VictoriaMetrics).
pub trait PromQl {
    /// Its base URL, `http://127.0.0.1:<port>`.
    fn base_url(&self) -> String;

    /// The instant vector `promql` evaluates to now; panics when the server refuses the query
    /// (a syntax error, say) or answers something else than a vector or a scalar.
    fn query(&self, promql: &str) -> Vec<Point> {
        query_api(&self.base_url(), promql)
    }

    /// Queries until `ready` holds for the answer, at most `within`; returns that answer.
    fn query_until(
        &self,
        promql: &str,
        within: Duration,
        ready: impl Fn(&[Point]) -> bool,
    ) -> Vec<Point> {
        poll_until(within, || self.query(promql), |points| ready(points))
    }
}

impl PromQl for Prometheus {
    fn base_url(&self) -> String {
        self.url()
    }
}

/// The instant vector `promql` evaluates to now at the Prometheus query API of `base_url`
/// (Prometheus, VictoriaMetrics); panics when the server refuses the query or answers something
/// else than a vector or a scalar.
pub fn query_api(base_url: &str, promql: &str) -> Vec<Point> {
    let url = format!("{base_url}{}", query_path(promql));
    let (code, body) = http_get(&url).unwrap_or_else(|| panic!("cannot query {promql}"));
    parse_answer(promql, code, &body)
}

/// `/api/v1/query?query=<promql, percent-encoded>`.
pub fn query_path(promql: &str) -> String {
    let mut path = String::from("/api/v1/query?query=");
    for byte in promql.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// The instant vector (or scalar) of a query API answer; panics when the server refused the
/// query or answered something else.
pub fn parse_answer(promql: &str, code: u16, body: &str) -> Vec<Point> {
    assert_eq!(code, 200, "{promql}: HTTP {code}: {body}");
    let answer: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{promql}: {e}: {body}"));
    assert_eq!(answer["status"], "success", "{promql}: {body}");
    let value_of = |pair: &serde_json::Value| -> f64 {
        pair[1]
            .as_str()
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| panic!("{promql}: not a sample: {pair}"))
    };
    match answer["data"]["resultType"].as_str() {
        Some("vector") => answer["data"]["result"]
            .as_array()
            .map(|points| {
                points
                    .iter()
                    .map(|point| Point {
                        labels: point["metric"]
                            .as_object()
                            .map(|labels| {
                                labels
                                    .iter()
                                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        value: value_of(&point["value"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Some("scalar") => vec![Point {
            labels: Default::default(),
            value: value_of(&answer["data"]["result"]),
        }],
        other => panic!("{promql}: unexpected result type {other:?}: {body}"),
    }
}

/// Prometheus's binary.
const PROMETHEUS: Binary = Binary {
    override_variable: "PROMETHEUS_BIN",
    names: &["prometheus"],
    package: "prometheus",
};

/// `promtool`, from the same package, or `None` after saying that `test` is skipped.
pub fn promtool_or_skip(test: &str) -> Option<std::path::PathBuf> {
    Binary {
        override_variable: "PROMTOOL_BIN",
        names: &["promtool"],
        package: "prometheus",
    }
    .or_skip(test)
}
