//! What every real server the tests start needs: finding its binary (or skipping, visibly),
//! starting it, waiting until it is ready, and polling it until it shows an outcome.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{http_get, skip};

/// How long a server may take to become ready.
pub(crate) const READY_WITHIN: Duration = Duration::from_secs(30);

/// A server's process: started by [`spawn`], killed (and reaped) when stopped or dropped.
pub(crate) struct ServerProcess(Child);

/// Starts `binary` with `args`, no input, its output discarded and its stderr to `stderr`.
pub(crate) fn spawn(binary: &Path, args: &[String], stderr: Stdio) -> ServerProcess {
    let child = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    ServerProcess(child)
}

impl ServerProcess {
    /// Kills the server and waits until it is gone: its port then refuses connections.
    pub(crate) fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// The server's exit status, if it has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.0.try_wait().ok().flatten()
    }

    /// Waits until `base_url/-/ready` answers 200, at most [`READY_WITHIN`]; fails the test
    /// when the server (`what`) exits first.
    pub(crate) fn wait_ready(&mut self, base_url: &str, what: &str) {
        let url = format!("{base_url}/-/ready");
        self.wait_until_ready(what, || http_get(&url).is_some_and(|(code, _)| code == 200));
    }

    /// Waits until `ready` holds, at most [`READY_WITHIN`]; fails the test when the server
    /// (`what`) exits first, or is not ready in time.
    pub(crate) fn wait_until_ready(&mut self, what: &str, ready: impl Fn() -> bool) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                panic!("{what} exited before it was ready: {status}");
            }
            if ready() {
                return;
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "{what} was not ready within {READY_WITHIN:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server's binary to run.
pub(crate) struct Binary {
    /// The variable that names the binary's path, overriding the search (`PUSHGATEWAY_BIN`).
    pub(crate) override_variable: &'static str,
    /// The file names to look for on `PATH`, `/usr/bin` and `/usr/local/bin`.
    pub(crate) names: &'static [&'static str],
    /// The Debian package that installs it.
    pub(crate) package: &'static str,
}

impl Binary {
    /// The binary, or `None` after [`skip`] said that `test` is skipped (a failure in CI).
    pub(crate) fn or_skip(&self, test: &str) -> Option<PathBuf> {
        let binary = self.find();
        if binary.is_none() {
            skip(
                test,
                &format!(
                    "{} is not installed",
                    self.names.first().unwrap_or(&self.package)
                ),
                &format!(
                    "apt-get install {}, or set {}",
                    self.package, self.override_variable
                ),
            );
        }
        binary
    }

    fn find(&self) -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(self.override_variable) {
            return Some(PathBuf::from(path));
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
            .flat_map(|dir| self.names.iter().map(move |name| dir.join(name)))
            .find(|candidate| candidate.is_file())
    }
}

/// Fetches until `ready` holds for what was fetched, at most `within`; returns the last fetch.
/// For outcomes a server shows some time after the fact (a background push, a scrape, a rule
/// evaluation): waits on the outcome, not on a guess.
pub fn poll_until<T>(
    within: Duration,
    mut fetch: impl FnMut() -> T,
    ready: impl Fn(&T) -> bool,
) -> T {
    let started = Instant::now();
    loop {
        let fetched = fetch();
        if ready(&fetched) || started.elapsed() > within {
            return fetched;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
