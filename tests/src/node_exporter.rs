//! The node exporter (Debian's `prometheus-node-exporter`) with only its textfile collector
//! on, reading one directory: a child process on a free loopback port, ready once `/metrics`
//! answers, killed on drop ([`NodeExporter`]); and a real Prometheus scraping it the way
//! `docs/textfile.md` recommends, `honor_labels: true`, with rule files loaded
//! ([`NodePrometheus`]).
//!
//! Missing binary: `start` returns `None` after saying the test was skipped, or fails the test
//! when `PUSHTIMER_REQUIRE_PUSHGATEWAY=1` (as in CI).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::server::{Binary, ServerProcess, poll_until, spawn};
use crate::tls::TempDir;
use crate::{PromQl, Scrape, free_port, http_get};

/// A `prometheus-node-exporter` serving the textfile collector alone. Killed on drop.
pub struct NodeExporter {
    process: ServerProcess,
    port: u16,
    /// Where its log (stderr) goes: what it says about the files it refused.
    log: PathBuf,
    _dir: TempDir,
}

impl NodeExporter {
    /// Starts a node exporter reading the `*.prom` files of `directory` at every scrape, and
    /// waits until it serves; `None` (after saying so) when the binary is not installed.
    pub fn start(test: &str, directory: &Path) -> Option<NodeExporter> {
        let binary = NODE_EXPORTER.or_skip(test)?;
        let dir = TempDir::new(&format!("node_exporter_{test}"));
        let log = dir.path().join("node_exporter.log");
        let stderr = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let port = free_port();
        let args = vec![
            "--collector.disable-defaults".to_owned(),
            "--collector.textfile".to_owned(),
            format!("--collector.textfile.directory={}", directory.display()),
            // Only what the files hold, the collector's own gauges and the scrape's: no Go
            // runtime or process metrics of the exporter itself.
            "--web.disable-exporter-metrics".to_owned(),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ];
        let process = spawn(&binary, &args, Stdio::from(stderr));
        let mut exporter = NodeExporter {
            process,
            port,
            log,
            _dir: dir,
        };
        let url = format!("{}/metrics", exporter.url());
        exporter.process.wait_until_ready("the node exporter", || {
            http_get(&url).is_some_and(|(code, _)| code == 200)
        });
        Some(exporter)
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything it serves on `/metrics`: the files' metrics, read at this scrape.
    pub fn scrape(&self) -> Scrape {
        Scrape::fetch(&self.url())
    }

    /// Scrapes until `ready` holds for the scrape, at most `within`; returns that scrape.
    pub fn scrape_until(&self, within: Duration, ready: impl Fn(&Scrape) -> bool) -> Scrape {
        poll_until(within, || self.scrape(), ready)
    }

    /// What it logged so far (at `error`: a file it could not read or parse, a family
    /// inconsistent across files, a series collected twice).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The node exporter's binary.
const NODE_EXPORTER: Binary = Binary {
    override_variable: "NODE_EXPORTER_BIN",
    names: &["prometheus-node-exporter", "node_exporter"],
    package: "prometheus-node-exporter",
};

/// A real Prometheus scraping one [`NodeExporter`] every second with `honor_labels: true`
/// (so the `job` of each file's series is the pushing job's, not the scrape job's), with rule
/// files evaluated every second and its data in a throw-away directory. Killed on drop.
pub struct NodePrometheus {
    process: ServerProcess,
    port: u16,
    _dir: TempDir,
}

impl NodePrometheus {
    /// Starts Prometheus scraping `exporter` as the scrape job `node`, with `rule_files`
    /// loaded, and waits until it is ready; `None` (after saying so) when the binary is not
    /// installed.
    pub fn start(
        test: &str,
        exporter: &NodeExporter,
        rule_files: &[&Path],
    ) -> Option<NodePrometheus> {
        let binary = PROMETHEUS.or_skip(test)?;
        let dir = TempDir::new(&format!("node_prometheus_{test}"));
        let rules: String = rule_files
            .iter()
            .map(|path| format!("  - {:?}\n", path.display().to_string()))
            .collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n{rules}\
             scrape_configs:\n  - job_name: node\n    honor_labels: true\n    \
             static_configs:\n      - targets: [\"127.0.0.1:{}\"]\n",
            exporter.port()
        );
        let config = dir.write("prometheus.yml", config);
        let port = free_port();
        let args = vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--log.level=warn".to_owned(),
        ];
        let process = spawn(&binary, &args, Stdio::null());
        let mut prometheus = NodePrometheus {
            process,
            port,
            _dir: dir,
        };
        let url = prometheus.base_url();
        prometheus.process.wait_ready(&url, "Prometheus");
        Some(prometheus)
    }
}

impl PromQl for NodePrometheus {
    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Prometheus's binary (as in `prometheus.rs`).
const PROMETHEUS: Binary = Binary {
    override_variable: "PROMETHEUS_BIN",
    names: &["prometheus"],
    package: "prometheus",
};
