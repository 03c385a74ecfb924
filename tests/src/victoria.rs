//! A real VictoriaMetrics (Debian's `victoria-metrics`, 1.79): a single-node child process on a
//! free loopback port, taking remote write at `/api/v1/write` and answering PromQL at
//! `/api/v1/query`, with its data in a throw-away directory; killed on drop.
//!
//! Started with `-search.latencyOffset=0s`: by default its queries hide the newest 30 s of data.

use std::process::{Child, Command, Stdio};

use crate::prometheus::PromQl;
use crate::server::{Binary, wait_until_ready};
use crate::tls::TempDir;
use crate::{free_port, http_get};

/// A VictoriaMetrics child process. Killed on drop.
pub struct VictoriaMetrics {
    child: Child,
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
        let child = Command::new(&binary)
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg(format!(
                "-storageDataPath={}",
                dir.path().join("data").display()
            ))
            .arg("-search.latencyOffset=0s")
            .arg("-loggerLevel=ERROR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut victoria = VictoriaMetrics {
            child,
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
        wait_until_ready(
            &mut self.child,
            "VictoriaMetrics",
            || matches!(http_get(&url), Some((200, body)) if body.trim() == "OK"),
        );
    }

    /// Where remote write goes: `http://127.0.0.1:<port>/api/v1/write`.
    pub fn write_url(&self) -> String {
        format!("{}/api/v1/write", self.url())
    }
}

impl PromQl for VictoriaMetrics {
    fn base_url(&self) -> String {
        self.url()
    }
}

impl Drop for VictoriaMetrics {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
