//! The shipped Prometheus rules (`deploy/prometheus/`) are valid, and their unit tests pass,
//! checked by the real `promtool` (Debian's `prometheus` package). Skipped, saying so, when
//! `promtool` is missing, unless `PUSHTIMER_REQUIRE_PUSHGATEWAY` is set (as in CI).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the repository")
        .join("deploy/prometheus")
}

/// `promtool args` in `deploy/prometheus`, or `None` when promtool is not installed.
fn promtool(args: &[&str]) -> Option<(bool, String)> {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(deploy())
        .output();
    match output {
        Ok(output) => Some((
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )),
        Err(_) => {
            assert!(
                std::env::var_os("PUSHTIMER_REQUIRE_PUSHGATEWAY").is_none(),
                "promtool (Debian package prometheus) is required"
            );
            eprintln!("skipped: promtool is not installed (apt-get install prometheus)");
            None
        }
    }
}

#[test]
fn the_rules_are_valid() {
    if let Some((ok, output)) = promtool(&["check", "rules", "pushtimer-rules.yml"]) {
        assert!(ok, "{output}");
        assert!(output.contains("SUCCESS: 4 rules found"), "{output}");
    }
}

#[test]
fn every_alert_fires_when_it_should_and_only_then() {
    let tests = deploy().join("tests");
    let mut files: Vec<String> = std::fs::read_dir(&tests)
        .expect("deploy/prometheus/tests")
        .flatten()
        .map(|entry| format!("tests/{}", entry.file_name().to_string_lossy()))
        .filter(|name| name.ends_with(".yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut args = vec!["test", "rules"];
    args.extend(files.iter().map(String::as_str));
    if let Some((ok, output)) = promtool(&args) {
        assert!(ok, "{output}");
    }
}
