//! Running cargo on a scratch crate, and reading what it says.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How cargo is run for the corpus: one target directory for every crate and both runs, and the
/// environment every run shares.
#[derive(Debug)]
pub struct Cargo {
    /// The `CARGO_TARGET_DIR` of every build.
    pub target_dir: PathBuf,
    /// Where each command's stdout and stderr are written.
    pub log_dir: PathBuf,
    /// How long one command may run before it is killed.
    pub timeout: Duration,
}

/// One finished cargo command.
#[derive(Debug)]
pub struct Output {
    /// Whether it exited 0 (false when it was killed).
    pub success: bool,
    /// Whether it was killed for running past the timeout.
    pub timed_out: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// Its wall time.
    pub elapsed: Duration,
}

impl Output {
    /// The first line of stderr that says what went wrong, for a one-line report.
    pub fn error_line(&self) -> String {
        if self.timed_out {
            return format!(
                "killed after {:.0} s (the timeout)",
                self.elapsed.as_secs_f64()
            );
        }
        self.stderr
            .lines()
            .find(|line| line.starts_with("error"))
            .or_else(|| self.stderr.lines().rfind(|line| !line.trim().is_empty()))
            .unwrap_or("no output")
            .trim()
            .to_owned()
    }
}

impl Cargo {
    /// Runs `cargo ARGS` in `dir`, writing its output to `<log_dir>/<log>.stdout` and `.stderr`.
    ///
    /// The environment is the caller's, less the variables that would make the crates' tests
    /// push metrics somewhere (`PUSHGATEWAY_*`, `PUSHTIMER_*`) or change what they print
    /// (`RUST_BACKTRACE`, `RUST_LIB_BACKTRACE`) and those `cargo run` set for this binary, plus the corpus's target directory and a resolver that skips dependency versions
    /// needing a newer rustc.
    pub fn run<I, S>(&self, dir: &Path, args: I, log: &str) -> io::Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_for(dir, args, log, self.timeout)
    }

    /// [`Cargo::run`] with a timeout of its own.
    pub fn run_for<I, S>(
        &self,
        dir: &Path,
        args: I,
        log: &str,
        timeout: Duration,
    ) -> io::Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        std::fs::create_dir_all(&self.log_dir)?;
        let stdout_path = self.log_dir.join(format!("{log}.stdout"));
        let stderr_path = self.log_dir.join(format!("{log}.stderr"));
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path)?)
            .stderr(File::create(&stderr_path)?);
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let set_by_cargo_run = name.starts_with("CARGO_PKG_")
                || matches!(
                    &*name,
                    "CARGO_MANIFEST_DIR"
                        | "CARGO_MANIFEST_PATH"
                        | "CARGO_CRATE_NAME"
                        | "CARGO_BIN_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                );
            // A backtrace in every `anyhow::Error` breaks tests that compare its Debug output.
            let backtrace = matches!(&*name, "RUST_BACKTRACE" | "RUST_LIB_BACKTRACE");
            if set_by_cargo_run
                || backtrace
                || name.starts_with("PUSHGATEWAY_")
                || name.starts_with("PUSHTIMER_")
            {
                command.env_remove(&*name);
            }
        }
        command
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "fallback")
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_TERM_PROGRESS_WHEN", "never");
        own_process_group(&mut command);

        let started = Instant::now();
        let mut child = command.spawn()?;
        let (status, timed_out) = loop {
            if let Some(status) = child.try_wait()? {
                break (Some(status), false);
            }
            if started.elapsed() > timeout {
                kill_group(&mut child);
                child.wait()?;
                break (None, true);
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Ok(Output {
            success: status.as_ref().is_some_and(ExitStatus::success),
            timed_out,
            stdout: std::fs::read_to_string(&stdout_path)?,
            stderr: std::fs::read_to_string(&stderr_path)?,
            elapsed: started.elapsed(),
        })
    }
}

/// Starts the command in a process group of its own, so that a timeout kills the test binaries
/// cargo started as well.
#[cfg(unix)]
fn own_process_group(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
}

#[cfg(not(unix))]
fn own_process_group(_command: &mut Command) {}

/// Kills the child's process group (the child alone where there are none).
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // The group's id is the child's pid (see `own_process_group`).
        let group = format!("-{}", child.id());
        let killed = Command::new("kill").args(["-KILL", "--", &group]).status();
        if killed.is_ok_and(|status| status.success()) {
            return;
        }
    }
    let _ = child.kill();
}

/// One compiler message of cargo's `--message-format=json` output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// `error`, `warning`...
    pub level: String,
    /// The lint or error code, e.g. `E0308` or `dead_code`.
    pub code: Option<String>,
    /// The message's first line.
    pub message: String,
    /// The primary span's file, as rustc names it (relative to the crate's root for its own
    /// files), and 1-based line.
    pub location: Option<(String, u64)>,
    /// The source line under the primary span, trimmed.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// Whether `other` is the same diagnostic: the same level, code and message at the same
    /// file and line. Not the source line, which holds the attribute the copies differ by.
    pub fn same_as(&self, other: &Diagnostic) -> bool {
        (&self.level, &self.code, &self.message, &self.location)
            == (&other.level, &other.code, &other.message, &other.location)
    }

    /// `error[E0308]: mismatched types`.
    pub fn headline(&self) -> String {
        match &self.code {
            Some(code) => format!("{}[{code}]: {}", self.level, self.message),
            None => format!("{}: {}", self.level, self.message),
        }
    }
}

/// The compiler messages in cargo's JSON `stdout`, each with the `package_id` it is about.
///
/// Left out: rustc's closing summaries ("aborting due to...", "N warnings emitted"), which are
/// not about any code.
pub fn diagnostics(stdout: &str) -> Vec<(String, Diagnostic)> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|value| value["reason"] == "compiler-message")
        .filter_map(|value| {
            let package = value["package_id"].as_str()?.to_owned();
            let message = &value["message"];
            let text = message["message"].as_str()?;
            let spans = message["spans"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            if spans.is_empty() && is_summary(text) {
                return None;
            }
            let primary = spans.iter().find(|span| span["is_primary"] == true);
            let diagnostic = Diagnostic {
                level: message["level"].as_str().unwrap_or("?").to_owned(),
                code: message["code"]["code"].as_str().map(str::to_owned),
                message: text.lines().next().unwrap_or_default().to_owned(),
                location: primary.and_then(|span| {
                    Some((
                        span["file_name"].as_str()?.to_owned(),
                        span["line_start"].as_u64()?,
                    ))
                }),
                source_line: primary
                    .and_then(|span| span["text"][0]["text"].as_str())
                    .map(|text| text.trim().to_owned()),
            };
            Some((package, diagnostic))
        })
        .collect()
}

/// The test executables of cargo's JSON `stdout` (`compiler-artifact` messages).
pub fn executables(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|value| value["reason"] == "compiler-artifact")
        // Test harnesses only: an example's executable is copied to `examples/<name>` without a
        // hash, the same path for both copies, whatever their features.
        .filter(|value| value["profile"]["test"] == true)
        .filter_map(|value| value["executable"].as_str().map(str::to_owned))
        .collect()
}

/// Whether a span-less message is one of rustc's closing summaries.
fn is_summary(text: &str) -> bool {
    text.starts_with("aborting due to")
        || text.ends_with("warnings emitted")
        || text.ends_with("warning emitted")
        || text.starts_with("Some errors have detailed explanations")
        || text.starts_with("For more information about")
}

/// The totals of the `test result:` lines of a `cargo test` output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TestCounts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests ignored.
    pub ignored: u64,
}

/// Adds up the `test result: ok. 3 passed; 0 failed; 1 ignored; ...` lines of `stdout`.
pub fn test_counts(stdout: &str) -> TestCounts {
    let mut counts = TestCounts::default();
    for line in stdout
        .lines()
        .filter_map(|line| line.strip_prefix("test result: "))
    {
        for part in line.split(';').map(str::trim) {
            let part = part
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ");
            let mut words = part.split_whitespace();
            let (Some(count), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => counts.passed += count,
                "failed" => counts.failed += count,
                "ignored" => counts.ignored += count,
                _ => {}
            }
        }
    }
    counts
}

/// The first `limit` distinct lines of a `cargo test` output that tell why it failed: failed
/// tests, panics, and compiler errors of doc tests.
pub fn test_failures(output: &str, limit: usize) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in output.lines() {
        let interesting = (line.starts_with("test ") && line.ends_with("FAILED"))
            || line.contains("panicked at")
            || line.starts_with("error[")
            || (line.starts_with("error:") && !line.starts_with("error: test failed"));
        let line = line.trim().to_owned();
        if interesting && !found.contains(&line) {
            found.push(line);
            if found.len() == limit {
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_result_lines_are_added_up() {
        let stdout = "\
running 2 tests
test a ... ok
test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

test result: FAILED. 5 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
";
        assert_eq!(
            test_counts(stdout),
            TestCounts {
                passed: 7,
                failed: 2,
                ignored: 1
            }
        );
    }

    #[test]
    fn compiler_messages_are_read_and_summaries_left_out() {
        let stdout = concat!(
            r#"{"reason":"compiler-artifact","package_id":"x"}"#,
            "\n",
            r#"{"reason":"compiler-message","package_id":"p","message":{"level":"warning","message":"unused variable: `a`","code":{"code":"unused_variables"},"spans":[{"is_primary":true,"file_name":"src/lib.rs","line_start":3,"text":[{"text":"    let a = 1;"}]}]}}"#,
            "\n",
            r#"{"reason":"compiler-message","package_id":"p","message":{"level":"warning","message":"1 warning emitted","code":null,"spans":[]}}"#,
            "\n",
        );
        assert!(executables(stdout).is_empty());
        let found = diagnostics(stdout);
        assert_eq!(found.len(), 1);
        let (package, diagnostic) = &found[0];
        assert_eq!(package, "p");
        assert_eq!(
            diagnostic.headline(),
            "warning[unused_variables]: unused variable: `a`"
        );
        assert_eq!(diagnostic.location, Some(("src/lib.rs".to_owned(), 3)));
        assert_eq!(diagnostic.source_line.as_deref(), Some("let a = 1;"));
    }

    #[test]
    fn executables_are_read_from_artifacts() {
        let stdout = concat!(
            r#"{"reason":"compiler-artifact","package_id":"p","executable":null,"profile":{"test":false}}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"p","executable":"/t/debug/deps/x-1","profile":{"test":true}}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"p","executable":"/t/debug/examples/e","profile":{"test":false}}"#,
            "\n",
        );
        assert_eq!(executables(stdout), ["/t/debug/deps/x-1"]);
    }

    #[test]
    fn failures_are_the_distinct_telling_lines() {
        let output = "\
test a ... FAILED
thread 'a' panicked at src/lib.rs:1:1:
test b ... ok
test a ... FAILED
error: test failed, to rerun pass `--lib`
";
        assert_eq!(
            test_failures(output, 5),
            [
                "test a ... FAILED",
                "thread 'a' panicked at src/lib.rs:1:1:"
            ]
        );
    }
}
