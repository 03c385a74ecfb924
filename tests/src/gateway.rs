//! The real Pushgateway: a `prometheus-pushgateway` child process on a free loopback port,
//! started without persistence, waited on until `/-/ready` answers, killed on drop.
//!
//! When the binary is missing, [`Gateway::start`] returns `None` and says on stderr that the
//! test was skipped and why; with `PUSHTIMER_REQUIRE_PUSHGATEWAY=1` (set by `.ci/run`) its
//! absence fails the test instead.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use crate::Scrape;
use crate::server::{Binary, ServerProcess, poll_until, spawn};

/// A `prometheus-pushgateway` child process on `127.0.0.1:<free port>`, without persistence.
/// Killed on drop.
pub struct Gateway {
    process: ServerProcess,
    port: u16,
    binary: PathBuf,
    args: Vec<String>,
}

impl Gateway {
    /// Starts a gateway, or returns `None` (after saying so) when the binary is not installed.
    pub fn start(test: &str) -> Option<Gateway> {
        Self::start_with_args(test, &[])
    }

    /// [`start`](Self::start) with extra command-line flags.
    pub fn start_with_args(test: &str, args: &[&str]) -> Option<Gateway> {
        let mut gateway = Self::launch(test, args, None)?;
        gateway.wait_ready();
        Some(gateway)
    }

    /// Starts the binary without waiting for it to be ready (for gateways that are not plain
    /// HTTP: [`tls::SecureGateway`] checks readiness itself). Its stderr goes to `log` when
    /// given, else nowhere. `None` (after saying so) when the binary is not installed.
    pub(crate) fn launch(test: &str, args: &[&str], log: Option<&Path>) -> Option<Gateway> {
        let binary = PUSHGATEWAY.or_skip(test)?;
        let port = free_port();
        let stderr = match log {
            Some(path) => Stdio::from(
                std::fs::File::create(path)
                    .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display())),
            ),
            None => Stdio::null(),
        };
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let process = spawn_gateway(&binary, port, &args, stderr);
        Some(Gateway {
            process,
            port,
            binary,
            args,
        })
    }

    /// Starts a gateway on a given loopback port (e.g. one a job is already pushing to).
    pub fn start_at(test: &str, port: u16) -> Option<Gateway> {
        let binary = PUSHGATEWAY.or_skip(test)?;
        let process = spawn_gateway(&binary, port, &[], Stdio::null());
        let mut gateway = Gateway {
            process,
            port,
            binary,
            args: Vec::new(),
        };
        gateway.wait_ready();
        Some(gateway)
    }

    /// Kills the gateway (all it held is lost: it has no persistence) and starts a fresh one on
    /// the same port, waiting until it is ready.
    pub fn restart(&mut self) {
        self.stop();
        self.process = spawn_gateway(&self.binary, self.port, &self.args, Stdio::null());
        self.wait_ready();
    }

    /// Kills the gateway and waits until it is gone: its port then refuses connections.
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// The gateway's exit status, if it has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.process.exited()
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_ready(&mut self) {
        let url = self.url();
        self.process.wait_ready(&url, "the Pushgateway");
    }

    /// Everything the gateway exposes on `/metrics`.
    pub fn scrape(&self) -> Scrape {
        Scrape::fetch(&self.url())
    }

    /// Scrapes until `ready` holds for the scrape, at most `within`; returns that scrape.
    /// For pushes made by a background thread: waits on the outcome, not on a guess.
    pub fn scrape_until(&self, within: Duration, ready: impl Fn(&Scrape) -> bool) -> Scrape {
        poll_until(within, || self.scrape(), ready)
    }
}

/// The Pushgateway's binary.
const PUSHGATEWAY: Binary = Binary {
    override_variable: "PUSHGATEWAY_BIN",
    names: &["prometheus-pushgateway", "pushgateway"],
    package: "prometheus-pushgateway",
};

fn spawn_gateway(binary: &Path, port: u16, args: &[String], stderr: Stdio) -> ServerProcess {
    let mut all = vec![
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--persistence.file=".to_owned(),
        "--log.level=warn".to_owned(),
    ];
    all.extend_from_slice(args);
    spawn(binary, &all, stderr)
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free loopback port")
}
