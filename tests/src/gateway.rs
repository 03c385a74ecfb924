//! The real Pushgateway: a `prometheus-pushgateway` child process on a free loopback port,
//! started without persistence, waited on until `/-/ready` answers, killed on drop.
//!
//! When the binary is missing, [`Gateway::start`] returns `None` and says on stderr that the
//! test was skipped and why; with `PUSHTIMER_REQUIRE_PUSHGATEWAY=1` (set by `.ci/run`) its
//! absence fails the test instead.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{Scrape, http_get};

/// How long a Pushgateway may take to become ready.
pub(crate) const READY_WITHIN: Duration = Duration::from_secs(30);

/// A `prometheus-pushgateway` child process on `127.0.0.1:<free port>`, without persistence.
/// Killed on drop.
pub struct Gateway {
    child: Child,
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
        let binary = binary_or_skip(test)?;
        let port = free_port();
        let stderr = match log {
            Some(path) => Stdio::from(
                std::fs::File::create(path)
                    .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display())),
            ),
            None => Stdio::null(),
        };
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let child = spawn_gateway(&binary, port, &args, stderr);
        Some(Gateway {
            child,
            port,
            binary,
            args,
        })
    }

    /// Starts a gateway on a given loopback port (e.g. one a job is already pushing to).
    pub fn start_at(test: &str, port: u16) -> Option<Gateway> {
        let binary = binary_or_skip(test)?;
        let child = spawn_gateway(&binary, port, &[], Stdio::null());
        let mut gateway = Gateway {
            child,
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
        self.child = spawn_gateway(&self.binary, self.port, &self.args, Stdio::null());
        self.wait_ready();
    }

    /// Kills the gateway and waits until it is gone: its port then refuses connections.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The gateway's exit status, if it has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
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
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the Pushgateway exited before it was ready: {status}");
            }
            if http_get(&format!("{}/-/ready", self.url())).is_some_and(|(code, _)| code == 200) {
                return;
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "the Pushgateway was not ready within {READY_WITHIN:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the gateway exposes on `/metrics`.
    pub fn scrape(&self) -> Scrape {
        let (code, body) = http_get(&format!("{}/metrics", self.url()))
            .unwrap_or_else(|| panic!("cannot scrape {}", self.url()));
        assert_eq!(code, 200, "scrape answered {code}: {body}");
        Scrape::parse(&body)
    }

    /// Scrapes until `ready` holds for the scrape, at most `within`; returns that scrape.
    /// For pushes made by a background thread: waits on the outcome, not on a guess.
    pub fn scrape_until(&self, within: Duration, ready: impl Fn(&Scrape) -> bool) -> Scrape {
        let started = Instant::now();
        loop {
            let scrape = self.scrape();
            if ready(&scrape) || started.elapsed() > within {
                return scrape;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Pushgateway binary, or `None` after saying visibly that `test` is skipped (a failure
/// instead when `PUSHTIMER_REQUIRE_PUSHGATEWAY=1`).
fn binary_or_skip(test: &str) -> Option<PathBuf> {
    let binary = pushgateway_binary();
    if binary.is_none() {
        if std::env::var_os("PUSHTIMER_REQUIRE_PUSHGATEWAY").is_some_and(|v| v == "1") {
            panic!(
                "{test}: prometheus-pushgateway is not installed, and PUSHTIMER_REQUIRE_PUSHGATEWAY=1 requires it"
            );
        }
        // Written to the stderr handle, not with `eprintln!`, which the test harness captures
        // and hides for passing tests: a skip must be visible.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: the prometheus-pushgateway binary is not installed \
             (apt-get install prometheus-pushgateway, or set PUSHGATEWAY_BIN)"
        );
    }
    binary
}

fn spawn_gateway(binary: &Path, port: u16, args: &[String], stderr: Stdio) -> Child {
    Command::new(binary)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--persistence.file=")
        .arg("--log.level=warn")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()))
}

fn pushgateway_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PUSHGATEWAY_BIN") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .flat_map(|dir| [dir.join("prometheus-pushgateway"), dir.join("pushgateway")])
        .find(|candidate| candidate.is_file())
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free loopback port")
}
