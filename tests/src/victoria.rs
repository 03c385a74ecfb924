//! A real VictoriaMetrics (Debian's `victoria-metrics`, 1.79): a single-node child process on a
//! free loopback port, taking remote write at `/api/v1/write` and answering PromQL at
//! `/api/v1/query`, with its data in a throw-away directory; killed on drop.
//!
//! Started with `-search.latencyOffset=0s`: by default its queries hide the newest 30 s of data.
//! Every query first asks it to flush its in-memory buffers (`/internal/force_flush`, its hook
//! for tests): without that, what was written becomes searchable only at its next flush, some
//! seconds later, which a test would spend polling.

use std::process::Stdio;

use crate::prometheus::{Point, PromQl, query_api};
use crate::server::{Binary, ServerProcess, spawn};
use crate::tls::TempDir;
use crate::{free_port, http_get};

/// A VictoriaMetrics child process. Killed on drop.
pub struct VictoriaMetrics {
    process: ServerProcess,
    port: u16,
    _dir: TempDir,
}

const VICTORIA_METRICS: Binary = Binary {
    override_variable: "VICTORIA_METRICS_BIN",
    names: &["victoria-metrics"],
    package: "victoria-metrics",
};

impl VictoriaMetrics {
    /// Starts one and waits until `/health` answers `OK`; `None` (after saying so) when the
    /// binary is not installed.
    pub fn start(test: &str) -> Option<VictoriaMetrics> {
        let binary = VICTORIA_METRICS.or_skip(test)?;
        let dir = TempDir::new(&format!("victoria_{test}"));
        let port = free_port();
        let args = [
            format!("-httpListenAddr=127.0.0.1:{port}"),
            format!("-storageDataPath={}", dir.path().join("data").display()),
            "-search.latencyOffset=0s".to_owned(),
            "-loggerLevel=ERROR".to_owned(),
        ];
        let process = spawn(&binary, &args, Stdio::null());
        let mut victoria = VictoriaMetrics {
            process,
            port,
            _dir: dir,
        };
        victoria.wait_ready();
        Some(victoria)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) {
        let url = format!("{}/health", self.url());
        self.process.wait_until_ready(
            "VictoriaMetrics",
            || matches!(http_get(&url), Some((200, body)) if body.trim() == "OK"),
        );
    }

    /// Where remote write goes: `http://127.0.0.1:<port>/api/v1/write`.
    pub fn write_url(&self) -> String {
        format!("{}/api/v1/write", self.url())
    }

    /// Makes everything it has taken so far searchable (`/internal/force_flush`).
    pub fn flush(&self) {
        let url = format!("{}/internal/force_flush", self.url());
        let answer = http_get(&url);
        assert!(
            answer.as_ref().is_some_and(|(code, _)| *code == 200),
            "{url}: {answer:?}"
        );
    }
}

impl PromQl for VictoriaMetrics {
    fn base_url(&self) -> String {
        self.url()
    }

    /// [`PromQl::query`], after a [`flush`](VictoriaMetrics::flush): the answer holds every
    /// write it had taken when the query was made.
    fn query(&self, promql: &str) -> Vec<Point> {
        self.flush();
        query_api(&self.base_url(), promql)
    }
}
