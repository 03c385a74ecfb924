//! What `deploy/` ships: the Prometheus rules are valid and their unit tests pass, checked by
//! the real `promtool` (Debian's `prometheus` package; skipped, saying so, when it is missing,
//! unless `PUSHTIMER_REQUIRE_PUSHGATEWAY` is set, as in CI); the Kubernetes manifests parse and
//! name only variables pushtimer reads.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::Command;

use pushtimer_tests::{promtool_or_skip, repository};

fn deploy() -> PathBuf {
    repository().join("deploy/prometheus")
}

/// `promtool args` in `deploy/prometheus`: whether it succeeded, and what it said; `None`
/// (after saying so) when promtool is not installed.
fn promtool(test: &str, args: &[&str]) -> Option<(bool, String)> {
    let binary = promtool_or_skip(test)?;
    let output = Command::new(&binary)
        .args(args)
        .current_dir(deploy())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    Some((
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    ))
}

#[test]
fn the_rules_are_valid() {
    if let Some((ok, output)) = promtool(
        "the_rules_are_valid",
        &["check", "rules", "pushtimer-rules.yml"],
    ) {
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
    if let Some((ok, output)) = promtool("every_alert_fires_when_it_should_and_only_then", &args) {
        assert!(ok, "{output}");
    }
}

/// The Kubernetes manifests parse, and every environment variable they give a container that
/// looks like one of pushtimer's is one pushtimer reads; each pod's grace period after SIGTERM
/// is longer than its push deadline.
#[test]
fn the_kubernetes_manifests_parse_and_name_only_real_variables() {
    use yaml_rust2::{Yaml, YamlLoader};

    /// Every `env:` entry's `name` and `value` below `node`.
    fn env_entries<'a>(node: &'a Yaml, out: &mut Vec<(&'a str, Option<&'a str>)>) {
        match node {
            Yaml::Hash(map) => {
                for (key, value) in map {
                    if key.as_str() == Some("env")
                        && let Yaml::Array(entries) = value
                    {
                        for entry in entries {
                            if let Some(name) = entry["name"].as_str() {
                                out.push((name, entry["value"].as_str()));
                            }
                        }
                    }
                    env_entries(value, out);
                }
            }
            Yaml::Array(items) => items.iter().for_each(|item| env_entries(item, out)),
            _ => {}
        }
    }

    /// Every pod spec's `terminationGracePeriodSeconds` below `node`.
    fn grace_periods(node: &Yaml, out: &mut Vec<i64>) {
        match node {
            Yaml::Hash(map) => {
                for (key, value) in map {
                    if key.as_str() == Some("terminationGracePeriodSeconds") {
                        out.extend(value.as_i64());
                    }
                    grace_periods(value, out);
                }
            }
            Yaml::Array(items) => items.iter().for_each(|item| grace_periods(item, out)),
            _ => {}
        }
    }

    let read = pushtimer_tests::runtime_variables();
    let folder = repository().join("deploy/kubernetes");
    let mut manifests = 0;
    for entry in std::fs::read_dir(&folder)
        .expect("deploy/kubernetes")
        .flatten()
    {
        let path = entry.path();
        let text = std::fs::read_to_string(&path).expect("readable manifest");
        let documents =
            YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for document in &documents {
            manifests += 1;
            assert!(
                document["kind"].as_str().is_some(),
                "{}: no kind",
                path.display()
            );
            let mut env = Vec::new();
            env_entries(document, &mut env);
            assert!(!env.is_empty(), "{}: no env", path.display());
            for (name, _) in &env {
                if pushtimer_tests::is_pushtimer_variable(name) {
                    assert!(
                        read.contains(*name),
                        "{}: {name} is not read by pushtimer",
                        path.display()
                    );
                }
            }
            let timeout = env
                .iter()
                .find(|(name, _)| *name == "PUSHGATEWAY_TIMEOUT")
                .and_then(|(_, value)| (*value)?.strip_suffix('s')?.parse::<i64>().ok())
                .unwrap_or(5);
            let mut grace = Vec::new();
            grace_periods(document, &mut grace);
            assert!(
                !grace.is_empty(),
                "{}: no terminationGracePeriodSeconds",
                path.display()
            );
            assert!(
                grace.iter().all(|&g| g > timeout),
                "{}: a grace period of {grace:?} s leaves no room for a {timeout} s final push",
                path.display()
            );
        }
    }
    assert!(manifests >= 2, "{manifests} manifests");
}
