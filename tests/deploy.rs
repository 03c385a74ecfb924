//! What `deploy/` ships: the Prometheus rules (for the Pushgateway and for remote write) are
//! valid and their unit tests pass, checked by the real `promtool` (Debian's `prometheus`
//! package; skipped, saying so, when it is missing, unless `PUSHTIMER_REQUIRE_PUSHGATEWAY` is
//! set, as in CI); every alert has a runbook section in `docs/alerts.md` and unit tests that see
//! it fire and not fire; the two Grafana dashboards show the same panels and annotations, the
//! remote-write one looking back over the rules' window, each panel with a unit and its tables
//! joined; no query of the rules or dashboards merges the shards of a job or overwrites a label
//! of the user's; the Kubernetes manifests parse and name only variables pushtimer reads.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use pushtimer_tests::{promtool_or_skip, repository};
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

fn deploy() -> PathBuf {
    repository().join("deploy/prometheus")
}

/// The rules files, in `deploy/prometheus`.
const RULE_FILES: [&str; 2] = ["pushtimer-rules.yml", "pushtimer-rules-remote-write.yml"];

/// The dashboards, in `deploy/grafana`.
const DASHBOARDS: [&str; 2] = [
    "pushtimer-batch-jobs.json",
    "pushtimer-batch-jobs-remote-write.json",
];

/// The one YAML document of `path`.
fn yaml(path: &std::path::Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut documents =
        YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(documents.len(), 1, "{}", path.display());
    documents.remove(0)
}

/// Every rule of a rules file in `deploy/prometheus`, in order.
fn rules(file: &str) -> Vec<Yaml> {
    let document = yaml(&deploy().join(file));
    let groups = document["groups"].as_vec().expect("groups");
    groups
        .iter()
        .flat_map(|group| group["rules"].as_vec().expect("rules").clone())
        .collect()
}

/// The dashboard `name` of `deploy/grafana`, parsed.
fn dashboard(name: &str) -> Value {
    let path = repository().join("deploy/grafana").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"))
}

/// Every PromQL expression of a dashboard: its panels' targets, then its annotations.
fn dashboard_exprs(dashboard: &Value) -> Vec<String> {
    let panels = dashboard["panels"].as_array().into_iter().flatten();
    let targets = panels.flat_map(|panel| panel["targets"].as_array().into_iter().flatten());
    let annotations = dashboard["annotations"]["list"]
        .as_array()
        .into_iter()
        .flatten();
    targets
        .chain(annotations)
        .map(|query| query["expr"].as_str().expect("an expr").to_owned())
        .collect()
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
    for (file, rules) in RULE_FILES.into_iter().zip([7, 6]) {
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

/// The anchors of the headings of a Markdown text (outside code blocks), as GitHub makes them:
/// lower case, a space as `-`, other punctuation than `-` and `_` left out.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut anchors = BTreeSet::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            let heading = line.trim_start_matches('#').trim();
            anchors.insert(
                heading
                    .chars()
                    .filter_map(|c| match c {
                        ' ' => Some('-'),
                        c if c.is_alphanumeric() || c == '-' || c == '_' => {
                            Some(c.to_ascii_lowercase())
                        }
                        _ => None,
                    })
                    .collect(),
            );
        }
    }
    anchors
}

/// Every alert of both rules files points its `runbook_url` at its own section of the runbook,
/// `docs/alerts.md#<alert name in lower case>`, a path relative to the repository (docs/alerts.md
/// says why), and that section exists.
#[test]
fn every_alert_links_its_section_of_the_runbook() {
    let runbook =
        std::fs::read_to_string(repository().join("docs/alerts.md")).expect("docs/alerts.md");
    let anchors = anchors(&runbook);
    for file in RULE_FILES {
        let alerts: Vec<Yaml> = rules(file)
            .into_iter()
            .filter(|rule| rule["alert"].as_str().is_some())
            .collect();
        assert!(!alerts.is_empty(), "{file}: no alert");
        for rule in &alerts {
            let alert = rule["alert"].as_str().unwrap_or_default();
            let anchor = alert.to_lowercase();
            assert_eq!(
                rule["annotations"]["runbook_url"].as_str(),
                Some(format!("docs/alerts.md#{anchor}").as_str()),
                "{file}: {alert}"
            );
            assert!(
                anchors.contains(&anchor),
                "{file}: {alert} has no section in docs/alerts.md: {anchors:?}"
            );
        }
    }
}

/// The unit tests of each rules file (the test files that load it) see each of its alerts
/// fire at least once (an `alert_rule_test` whose `exp_alerts` is not empty) and not fire at
/// least once (one whose `exp_alerts` is empty), so none is left untested, new ones included;
/// and they name no alert the file does not have (promtool passes a test of an unknown alert
/// that expects none).
#[test]
fn every_alert_is_tested_firing_and_not_firing() {
    // Per rules file, per alert: (seen firing, seen not firing).
    let mut seen: BTreeMap<String, BTreeMap<String, (bool, bool)>> = BTreeMap::new();
    let folder = deploy().join("tests");
    for entry in std::fs::read_dir(&folder)
        .expect("deploy/prometheus/tests")
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_none_or(|ext| ext != "yml") {
            continue;
        }
        let document = yaml(&path);
        let loaded: Vec<String> = document["rule_files"]
            .as_vec()
            .expect("rule_files")
            .iter()
            .filter_map(|file| file.as_str()?.rsplit('/').next().map(str::to_owned))
            .collect();
        let cases = document["tests"].as_vec().expect("tests");
        for test in cases
            .iter()
            .flat_map(|case| case["alert_rule_test"].as_vec().into_iter().flatten())
        {
            let alert = test["alertname"].as_str().expect("an alertname");
            let fires = test["exp_alerts"].as_vec().is_some_and(|a| !a.is_empty());
            for file in &loaded {
                let entry = seen
                    .entry(file.clone())
                    .or_default()
                    .entry(alert.to_owned())
                    .or_default();
                if fires {
                    entry.0 = true;
                } else {
                    entry.1 = true;
                }
            }
        }
    }
    for file in RULE_FILES {
        let tested = seen
            .get(file)
            .unwrap_or_else(|| panic!("no unit test loads {file}"));
        let alerts: BTreeSet<String> = rules(file)
            .iter()
            .filter_map(|rule| rule["alert"].as_str().map(str::to_owned))
            .collect();
        for alert in &alerts {
            let (fires, quiet) = tested.get(alert).copied().unwrap_or_default();
            assert!(fires, "{file}: no unit test sees {alert} fire");
            assert!(quiet, "{file}: no unit test sees {alert} not fire");
        }
        for alert in tested.keys() {
            assert!(
                alerts.contains(alert),
                "the tests of {file} name {alert}, which it does not have"
            );
        }
    }
}

/// Both dashboards: every panel has a unit (`fieldConfig.defaults.unit`); the targets of a
/// table are instant queries in table format, and a table of several is joined by Grafana's
/// `merge` (or `joinByField`) transformation into one row per group instead of one frame per
/// query; every time series keeps all its labels in its legend (Grafana's automatic legend),
/// so that the user's labels and a job's shard labels show; `$job` offers no "All" value of its
/// own, so that "All" is the list of pushtimer jobs found, not `.+`, which would make the
/// panels that pick series by name read every job Prometheus has; and the start and the end
/// of each run are annotations that take their time from the value, in milliseconds as
/// Grafana wants (Unix seconds times 1000).
#[test]
fn every_panel_has_a_unit_its_tables_join_and_runs_are_annotated() {
    for name in DASHBOARDS {
        let dashboard = dashboard(name);
        for panel in dashboard["panels"].as_array().expect("panels") {
            let title = panel["title"].as_str().unwrap_or("?");
            let unit = panel["fieldConfig"]["defaults"]["unit"].as_str();
            assert!(
                unit.is_some_and(|u| !u.is_empty()),
                "{name}: {title}: no unit"
            );
            let targets = panel["targets"].as_array().expect("targets");
            if panel["type"] == "table" {
                for target in targets {
                    assert_eq!(target["instant"], true, "{name}: {title}");
                    assert_eq!(target["format"], "table", "{name}: {title}");
                }
                let joined = panel["transformations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| t["id"] == "merge" || t["id"] == "joinByField");
                assert!(
                    targets.len() == 1 || joined,
                    "{name}: {title}: {} queries and no join",
                    targets.len()
                );
            } else {
                for target in targets {
                    let legend = target["legendFormat"].as_str().unwrap_or("");
                    assert!(
                        legend.is_empty() || legend == "__auto",
                        "{name}: {title}: the legend {legend:?} shows only some labels"
                    );
                }
            }
        }
        let variables = dashboard["templating"]["list"]
            .as_array()
            .expect("variables");
        let job = variables
            .iter()
            .find(|v| v["name"] == "job")
            .expect("a $job variable");
        assert_eq!(job["includeAll"], true, "{name}");
        assert!(
            job["allValue"].is_null(),
            "{name}: $job's All is {}",
            job["allValue"]
        );
        let annotations = dashboard["annotations"]["list"]
            .as_array()
            .expect("annotations");
        let names: Vec<&str> = annotations
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        assert_eq!(names, ["Run start", "Run end"], "{name}");
        for annotation in annotations {
            let expr = annotation["expr"].as_str().unwrap_or("");
            assert_eq!(annotation["useValueForTime"], true, "{name}: {expr}");
            assert!(
                annotation["datasource"]["uid"].is_string(),
                "{name}: {expr}"
            );
            assert!(
                expr.contains("* 1000"),
                "{name}: not in milliseconds: {expr}"
            );
        }
    }
}

/// The names the dashboards' `label_replace` may write: their own, never a label a user may
/// have given a series (a `stage`, say).
const OWN_LABELS: &[&str] = &["metric", "unit", "memory"];

/// What an expression does that merges the shards of a job or overwrites a user's label, one
/// line each: an aggregation by the labels it keeps (`by (...)`, which drops a shard's
/// grouping label) or by none (every series into one), a join on some labels (`on (...)`),
/// a `label_replace` into a label not in [`OWN_LABELS`]. A scan of words outside strings, not
/// a parser.
fn merges_or_overwrites(expr: &str) -> Vec<String> {
    const AGGREGATIONS: &[&str] = &[
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
    let skip_string = |mut i: usize| {
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    };
    let next_char = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        (i, bytes.get(i).copied())
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            i = skip_string(i);
            continue;
        }
        if !is_name(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_name(bytes[i]) {
            i += 1;
        }
        let word = &expr[start..i];
        let (open, next) = next_char(i);
        if next != Some(b'(') {
            continue;
        }
        if word == "by" || word == "on" {
            found.push(format!("{word} (...) at {start}"));
        } else if AGGREGATIONS.contains(&word) {
            found.push(format!("{word} of everything at {start}"));
        } else if word == "label_replace" {
            // The destination is the string after the first argument.
            let mut depth = 0;
            let mut j = open + 1;
            while j < bytes.len() && !(depth == 0 && bytes[j] == b',') {
                match bytes[j] {
                    b'"' => {
                        j = skip_string(j);
                        continue;
                    }
                    b'(' | b'{' | b'[' => depth += 1,
                    b')' | b'}' | b']' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            let (quote, _) = next_char(j + 1);
            let end = skip_string(quote);
            let destination = expr.get(quote + 1..end - 1).unwrap_or("");
            if !OWN_LABELS.contains(&destination) {
                found.push(format!("label_replace into {destination:?} at {start}"));
            }
        }
    }
    found
}

/// No expression of the rules or the dashboards (panels and annotations) merges the shards of
/// a job or overwrites a label of the user's (see [`merges_or_overwrites`]): they aggregate
/// `without (...)` the labels that are not identity, and write only labels of their own. And
/// the scan finds each of those in an expression that does it.
#[test]
fn no_query_merges_shards_or_overwrites_a_users_label() {
    let mut exprs: Vec<(String, String)> = Vec::new();
    for file in RULE_FILES {
        for rule in rules(file) {
            let expr = rule["expr"].as_str().expect("an expr").to_owned();
            exprs.push((file.to_owned(), expr));
        }
    }
    for name in DASHBOARDS {
        for expr in dashboard_exprs(&dashboard(name)) {
            exprs.push((name.to_owned(), expr));
        }
    }
    for (source, expr) in &exprs {
        let found = merges_or_overwrites(expr);
        assert!(found.is_empty(), "{source}: {found:?} in {expr}");
    }
    for bad in [
        "max by (job) (x)",
        "sum(x)",
        "max (x)",
        "a and on (job, instance) b",
        r#"label_replace(max without (r) (x{a="(,)"}), "stage", "$1", "__name__", "(.+)")"#,
    ] {
        assert!(!merges_or_overwrites(bad).is_empty(), "not found in {bad}");
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
    // Aggregations too: their `by (..)` may come before their `(`; and `group_left` and
    // `group_right`, which need no label list.
    const KEYWORDS: &[&str] = &[
        "bool",
        "and",
        "or",
        "unless",
        "group_left",
        "group_right",
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
/// targets, units) and annotations with the same variables, under their own titles and uids;
/// every query of the remote-write one (annotations included) reads each of its selectors over
/// the rules' window (`[8d]`), since a job's series go stale 5 minutes after its last sample
/// there; and the check finds the plain selectors of the Pushgateway one.
#[test]
fn the_remote_write_dashboard_matches_and_looks_back_over_the_window() {
    let gateway = dashboard(DASHBOARDS[0]);
    let remote = dashboard(DASHBOARDS[1]);
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

    /// What must be equal in both dashboards: per panel, and per annotation (all but its query).
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
                    "fieldConfig": panel["fieldConfig"],
                    "transformations": panel["transformations"],
                })
            })
            .chain(
                dashboard["annotations"]["list"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|annotation| {
                        let mut annotation = annotation.clone();
                        annotation["expr"] = Value::Null;
                        annotation
                    }),
            )
            .collect()
    }
    assert_eq!(layout(&gateway), layout(&remote));

    for expr in dashboard_exprs(&remote) {
        let ranges = selector_ranges(&expr).unwrap_or_else(|e| panic!("{e} in {expr}"));
        assert!(!ranges.is_empty(), "no selector in {expr}");
        assert!(
            ranges.iter().all(|range| *range == REMOTE_WRITE_WINDOW),
            "{ranges:?} in {expr}"
        );
    }
    for expr in dashboard_exprs(&gateway) {
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

    /// An `env` entry's value, as a manifest gives it.
    enum Env<'a> {
        /// `value: ...`
        Value(&'a str),
        /// `valueFrom: {fieldRef: {fieldPath: ...}}`: the downward API.
        Field(&'a str),
        /// Anything else (`secretKeyRef`, ...).
        Other,
    }

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

    /// Every container below `node`: its `env` entries in order, each a name and its literal
    /// `value` or, for the downward API, its `valueFrom.fieldRef.fieldPath`.
    fn containers<'a>(node: &'a Yaml, out: &mut Vec<Vec<(&'a str, Env<'a>)>>) {
        match node {
            Yaml::Hash(map) => {
                for (key, value) in map {
                    if key.as_str() == Some("containers")
                        && let Yaml::Array(containers) = value
                    {
                        for container in containers {
                            let entries = container["env"].as_vec().map_or(&[][..], Vec::as_slice);
                            out.push(
                                entries
                                    .iter()
                                    .filter_map(|entry| {
                                        let name = entry["name"].as_str()?;
                                        let field =
                                            entry["valueFrom"]["fieldRef"]["fieldPath"].as_str();
                                        Some(match (entry["value"].as_str(), field) {
                                            (Some(value), _) => (name, Env::Value(value)),
                                            (None, Some(path)) => (name, Env::Field(path)),
                                            (None, None) => (name, Env::Other),
                                        })
                                    })
                                    .collect(),
                            );
                        }
                    }
                    containers(value, out);
                }
            }
            Yaml::Array(items) => items.iter().for_each(|item| containers(item, out)),
            _ => {}
        }
    }

    /// The variables a value refers to as `$(NAME)`, which Kubernetes expands (`$$` is an
    /// escaped `$`, no reference).
    fn references(value: &str) -> Vec<&str> {
        let mut found = Vec::new();
        let mut rest = value;
        while let Some(at) = rest.find('$') {
            let after = &rest[at + 1..];
            if let Some(escaped) = after.strip_prefix('$') {
                rest = escaped;
            } else if let Some(inside) = after.strip_prefix('(')
                && let Some(end) = inside.find(')')
            {
                found.push(&inside[..end]);
                rest = &inside[end + 1..];
            } else {
                rest = after;
            }
        }
        found
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

    assert_eq!(
        references("a=$(A),b=$$(B),c=$(C)x,$(D"),
        ["A", "C"],
        "the scan of references works"
    );
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
            let mut found = Vec::new();
            containers(document, &mut found);
            assert!(!found.is_empty(), "{}: no container", path.display());
            for container in &found {
                labels_from_the_downward_api(&path, container);
            }
        }
    }
    assert!(manifests >= 2, "{manifests} manifests");

    /// In one container: every `$(VAR)` names a variable defined before it (Kubernetes leaves
    /// any other as it is, so a label would read `$(VAR)`); `PUSHTIMER_LABELS` labels the
    /// series with the node, namespace and pod from the downward API; none of them is in the
    /// grouping key.
    fn labels_from_the_downward_api(path: &std::path::Path, container: &[(&str, Env<'_>)]) {
        let path = path.display();
        for (at, (name, value)) in container.iter().enumerate() {
            let Env::Value(value) = value else { continue };
            for reference in references(value) {
                assert!(
                    container[..at]
                        .iter()
                        .any(|(earlier, _)| *earlier == reference),
                    "{path}: {name} refers to $({reference}), which is not defined before it"
                );
            }
        }
        let field = |wanted: &str| {
            container.iter().find_map(|(name, value)| match value {
                Env::Field(path) if *path == wanted => Some(*name),
                _ => None,
            })
        };
        let value = |wanted: &str| {
            container.iter().find_map(|(name, value)| match value {
                Env::Value(value) if *name == wanted => Some(*value),
                _ => None,
            })
        };
        let labels =
            value("PUSHTIMER_LABELS").unwrap_or_else(|| panic!("{path}: no PUSHTIMER_LABELS"));
        let pairs: Vec<(&str, &str)> = labels
            .split(',')
            .map(|pair| {
                pair.split_once('=')
                    .unwrap_or_else(|| panic!("{path}: {pair:?}"))
            })
            .collect();
        for (label, field_path) in [
            ("node", "spec.nodeName"),
            ("namespace", "metadata.namespace"),
            ("pod", "metadata.name"),
        ] {
            let variable = field(field_path)
                .unwrap_or_else(|| panic!("{path}: no variable from fieldRef {field_path}"));
            assert!(
                !pushtimer_tests::is_pushtimer_variable(variable),
                "{path}: {variable} looks like a pushtimer setting"
            );
            let expected = format!("$({variable})");
            assert!(
                pairs.contains(&(label, expected.as_str())),
                "{path}: PUSHTIMER_LABELS={labels:?} has no {label}={expected}"
            );
            for grouping in ["PUSHGATEWAY_GROUPING", "PUSHGATEWAY_JOB"] {
                assert!(
                    value(grouping).is_none_or(|value| !value.contains(&expected)),
                    "{path}: {variable} changes every run and must not be in {grouping}"
                );
            }
        }
    }
}
