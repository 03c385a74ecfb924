//! What `deploy/` ships: the Prometheus rules (for the Pushgateway and for remote write) are
//! valid and their unit tests pass, checked by the real `promtool` (Debian's `prometheus`
//! package; skipped, saying so, when it is missing, unless `PUSHTIMER_REQUIRE_PUSHGATEWAY` is
//! set, as in CI); the two Grafana dashboards show the same panels, the remote-write one looking
//! back over the rules' window; the Kubernetes manifests parse and name only variables
//! pushtimer reads.
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
    for (file, rules) in [
        ("pushtimer-rules.yml", 6),
        ("pushtimer-rules-remote-write.yml", 5),
    ] {
        if let Some((ok, output)) = promtool("the_rules_are_valid", &["check", "rules", file]) {
            assert!(ok, "{file}: {output}");
            assert!(
                output.contains(&format!("SUCCESS: {rules} rules found")),
                "{file}: {output}"
            );
        }
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

/// The window the remote-write dashboard's queries look back over: the `[W]` of
/// `pushtimer-rules-remote-write.yml`.
const REMOTE_WRITE_WINDOW: &str = "8d";

/// The range of every selector of a PromQL expression, in order, or the first selector that
/// has none (a bare instant selector). A lexer, not a parser: it skips strings, numbers and
/// durations, the label lists of `by`/`without`/`on`/`ignoring`/`group_*`, keywords (operators,
/// aggregations) and function names (a name followed by `(`); any other name, or a `{` not
/// after one, starts a selector, whose `{...}` matchers must then be followed by `[range]`.
fn selector_ranges(expr: &str) -> Result<Vec<&str>, String> {
    const LABEL_LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    // Aggregations too: their `by (..)` may come before their `(`.
    const KEYWORDS: &[&str] = &[
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    let bytes = expr.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let skip_spaces = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    // The index just after the string that starts at `i` (a `"`).
    let skip_string = |mut i: usize| {
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    };
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let selector = if c == b'"' {
            i = skip_string(i);
            continue;
        } else if c.is_ascii_digit() || c == b'.' {
            while i < bytes.len() && (is_name(bytes[i]) || bytes[i] == b'.') {
                i += 1;
            }
            continue;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            let start = i;
            while i < bytes.len() && is_name(bytes[i]) {
                i += 1;
            }
            let word = &expr[start..i];
            let next = skip_spaces(i);
            if bytes.get(next) == Some(&b'(') {
                if LABEL_LISTS.contains(&word) {
                    i = next
                        + expr[next..]
                            .find(')')
                            .map_or(expr.len() - next, |end| end + 1);
                }
                continue;
            }
            if KEYWORDS.contains(&word) {
                continue;
            }
            start
        } else if c == b'{' {
            i
        } else {
            i += 1;
            continue;
        };
        // A selector starts at `selector`; `i` is after its name, if any.
        i = skip_spaces(i);
        if bytes.get(i) == Some(&b'{') {
            while i < bytes.len() && bytes[i] != b'}' {
                i = if bytes[i] == b'"' {
                    skip_string(i)
                } else {
                    i + 1
                };
            }
            i = skip_spaces(i + 1);
        }
        if bytes.get(i) != Some(&b'[') {
            return Err(format!(
                "a bare selector: {}",
                &expr[selector..i.min(expr.len())]
            ));
        }
        let end = expr[i..].find(']').map_or(expr.len(), |end| i + end);
        ranges.push(expr[i + 1..end].trim());
        i = end + 1;
    }
    Ok(ranges)
}

/// Both Grafana dashboards parse and show the same panels (titles, types, places, data sources,
/// targets) with the same variables, under their own titles and uids; every query of the
/// remote-write one reads each of its selectors over the rules' window (`[8d]`), since a job's
/// series go stale 5 minutes after its last sample there; and the check finds the plain
/// selectors of the Pushgateway one.
#[test]
fn the_remote_write_dashboard_matches_and_looks_back_over_the_window() {
    use serde_json::Value;

    let load = |name: &str| -> Value {
        let path = repository().join("deploy/grafana").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"))
    };
    let gateway = load("pushtimer-batch-jobs.json");
    let remote = load("pushtimer-batch-jobs-remote-write.json");
    assert_ne!(gateway["uid"], remote["uid"]);
    assert!(remote["uid"].is_string());
    assert!(
        remote["title"]
            .as_str()
            .is_some_and(|title| title.ends_with("(remote write)")),
        "{}",
        remote["title"]
    );
    assert_eq!(gateway["templating"], remote["templating"]);

    /// What must be equal in both dashboards, per panel.
    fn layout(dashboard: &Value) -> Vec<Value> {
        let panels = dashboard["panels"].as_array().expect("panels");
        assert!(!panels.is_empty());
        panels
            .iter()
            .map(|panel| {
                let targets = panel["targets"].as_array().expect("targets");
                let targets: Vec<_> = targets
                    .iter()
                    .map(|t| serde_json::json!([t["refId"], t["datasource"]]))
                    .collect();
                serde_json::json!({
                    "title": panel["title"],
                    "type": panel["type"],
                    "gridPos": panel["gridPos"],
                    "datasource": panel["datasource"],
                    "targets": targets,
                })
            })
            .collect()
    }
    assert_eq!(layout(&gateway), layout(&remote));

    let exprs = |dashboard: &Value| -> Vec<String> {
        dashboard["panels"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|panel| panel["targets"].as_array().into_iter().flatten())
            .map(|target| target["expr"].as_str().expect("an expr").to_owned())
            .collect()
    };
    for expr in exprs(&remote) {
        let ranges = selector_ranges(&expr).unwrap_or_else(|e| panic!("{e} in {expr}"));
        assert!(!ranges.is_empty(), "no selector in {expr}");
        assert!(
            ranges.iter().all(|range| *range == REMOTE_WRITE_WINDOW),
            "{ranges:?} in {expr}"
        );
    }
    for expr in exprs(&gateway) {
        assert!(
            selector_ranges(&expr).is_err(),
            "no bare selector found in {expr}"
        );
    }
    let rules = std::fs::read_to_string(deploy().join("pushtimer-rules-remote-write.yml"))
        .expect("the remote-write rules");
    assert!(rules.contains(&format!("[{REMOTE_WRITE_WINDOW}]")));
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
