//! Assertions the suites share: how a finished job must look (clean, or unharmed with exactly
//! one warning, no secret in its output) and what a gateway must hold after `exit_job`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{JobRun, Point, Scrape};

/// What one run of `exit_job ... 5` must leave in the gateway, in the group `job` plus
/// `grouping` (`instance` is `""` unless `grouping` sets it).
pub fn assert_exit_job_complete(scrape: &Scrape, job: &str, grouping: &[(&str, &str)]) {
    let mut group = vec![("job", job)];
    group.extend_from_slice(grouping);
    if !grouping.iter().any(|(name, _)| *name == "instance") {
        group.push(("instance", ""));
    }
    let mut work = group.clone();
    work.push(("stage", "work"));
    work.push(("outcome", "ok"));
    assert_eq!(
        scrape.value("exit_job_work_seconds_count", &work),
        Some(5.0),
        "{job}: {scrape:#?}"
    );
    let sum = scrape.value("exit_job_work_seconds_sum", &work);
    assert!(sum.is_some_and(|s| s > 0.0 && s < 5.0), "{job}: {sum:?}");
    assert_eq!(scrape.types["exit_job_work_seconds"], "summary");
    assert_eq!(
        scrape.help["exit_job_work_seconds"],
        "Does one unit of work."
    );
    let mut upload = group.clone();
    upload.push(("outcome", "ok"));
    assert_eq!(scrape.value("upload_seconds_count", &upload), Some(1.0));
    assert_eq!(scrape.help["upload_seconds"], "Uploads the result.");
    assert_eq!(
        scrape.value("exit_job_wait_seconds_count", &group),
        Some(5.0)
    );
    assert_eq!(
        scrape.value("exit_job_wait_seconds_sum", &group),
        Some(1.25)
    );
    assert_eq!(
        scrape.help["exit_job_wait_seconds"],
        "Seconds waited, observed by hand."
    );
}

/// The job pushed without a word and exited 0.
pub fn assert_clean(run: &JobRun) {
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

/// The job kept its exit code, did not panic, and pushtimer said exactly one thing: a warning
/// containing every needle (a lowercase needle is matched against the lowercased warning).
pub fn assert_unharmed_with_one_warning(run: &JobRun, code: i32, needles: &[&str]) {
    assert_eq!(run.status.code(), Some(code), "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "exactly one warning expected: {run:#?}");
    let lowercase = warnings[0].to_lowercase();
    for needle in needles {
        assert!(
            warnings[0].contains(needle) || lowercase.contains(needle),
            "{needle:?} missing in {:?}",
            warnings[0]
        );
    }
}

/// Neither the job's stdout nor its stderr shows `secret`.
pub fn assert_no_secret(run: &JobRun, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the secret {secret:?} leaked into the job's output: {run:#?}"
    );
}

/// The gateway holds no series at all for `job`.
pub fn assert_nothing_for(scrape: &Scrape, job: &str) {
    let held: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.labels.get("job").map(String::as_str) == Some(job))
        .collect();
    assert!(held.is_empty(), "the gateway holds {held:#?}");
}

/// Every panel of the Grafana dashboard at `path` has a datasource and a query, and every
/// query, panels' and annotations' alike, returns data from `query` (which waits for data,
/// within its own limit), with the dashboard's `$job` as "All": as Grafana expands it, every
/// job that the variable's `label_values(<metric>, job)` finds, as a regex of alternatives.
/// The queries of a table of several return the same label sets, one per group (a job, or
/// one shard of it), so that its join makes one row of each. A query of the storage I/O
/// counters answers exactly when this machine's kernel gives them (`/proc/self/io`, which a
/// job on this machine reads too). Returns every answer, by `"<panel title>/<refId>"` and
/// `"annotation/<name>"`.
pub fn assert_dashboard_answers(
    path: &Path,
    query: &dyn Fn(&str) -> Vec<Point>,
) -> BTreeMap<String, Vec<Point>> {
    let text = std::fs::read_to_string(path).expect("the dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard parses");
    let jobs = all_jobs(&dashboard, query);
    let io_readable = std::fs::read_to_string("/proc/self/io")
        .is_ok_and(|io| io.contains("\nread_bytes:") && io.contains("\nwrite_bytes:"));
    let mut answers = BTreeMap::new();
    let mut ask = |key: String, expr: &str| {
        let expr = expr.replace("$job", &jobs);
        let points = query(&expr);
        if expr.contains("pushtimer_job_io_") && !io_readable {
            assert!(points.is_empty(), "{key}: {points:?} without /proc/self/io");
        } else {
            assert!(!points.is_empty(), "{key}: no data for {expr}");
        }
        answers.insert(key, points);
    };
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("?");
        assert!(
            panel["datasource"]["uid"].is_string(),
            "{title}: no datasource"
        );
        let targets = panel["targets"].as_array().filter(|t| !t.is_empty());
        let targets = targets.unwrap_or_else(|| panic!("{title}: no target"));
        for target in targets {
            assert!(
                target["datasource"]["uid"].is_string(),
                "{title}: a target without datasource"
            );
            let expr = target["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("{title}: no expr"));
            let ref_id = target["refId"].as_str().unwrap_or("?");
            ask(format!("{title}/{ref_id}"), expr);
        }
    }
    let annotations = dashboard["annotations"]["list"].as_array();
    for annotation in annotations.into_iter().flatten() {
        let name = annotation["name"].as_str().unwrap_or("?");
        assert!(
            annotation["datasource"]["uid"].is_string(),
            "annotation {name}: no datasource"
        );
        let expr = annotation["expr"]
            .as_str()
            .unwrap_or_else(|| panic!("annotation {name}: no expr"));
        ask(format!("annotation/{name}"), expr);
    }
    assert!(answers.len() >= panels.len());

    for panel in panels.iter().filter(|panel| panel["type"] == "table") {
        let title = panel["title"].as_str().unwrap_or("?");
        let rows: Vec<(String, BTreeSet<&BTreeMap<String, String>>)> = answers
            .iter()
            .filter(|(key, _)| key.strip_prefix(title).is_some_and(|k| k.starts_with('/')))
            .map(|(key, points)| (key.clone(), points.iter().map(|p| &p.labels).collect()))
            .collect();
        for (key, labels) in &rows {
            assert_eq!(
                labels.len(),
                answers[key].len(),
                "{key}: a label set twice: {:?}",
                answers[key]
            );
            assert_eq!(
                labels, &rows[0].1,
                "{key} and {} return other label sets: the join would not make one row per group",
                rows[0].0
            );
        }
    }
    answers
}

/// What Grafana makes of `$job` set to "All" (the dashboard gives it no value of its own):
/// every value its query `label_values(<metric>, job)` finds, over the dashboard's time range
/// (`now-<range>`), as the regex `(a|b|c)`, its ASCII punctuation escaped for the regex and the
/// PromQL string.
fn all_jobs(dashboard: &serde_json::Value, query: &dyn Fn(&str) -> Vec<Point>) -> String {
    let variables = dashboard["templating"]["list"].as_array();
    let job = variables
        .into_iter()
        .flatten()
        .find(|v| v["name"] == "job")
        .expect("a $job variable");
    assert!(
        job["allValue"].is_null(),
        "$job's All is {}",
        job["allValue"]
    );
    let definition = job["definition"].as_str().expect("its query");
    let metric = definition
        .strip_prefix("label_values(")
        .and_then(|rest| rest.strip_suffix(", job)"))
        .unwrap_or_else(|| panic!("not label_values(<metric>, job): {definition}"));
    let range = dashboard["time"]["from"]
        .as_str()
        .and_then(|from| from.strip_prefix("now-"))
        .expect("a time range from now-<range>");
    let found = query(&format!("last_over_time({metric}[{range}])"));
    let jobs: BTreeSet<&str> = found
        .iter()
        .filter_map(|point| point.labels.get("job").map(String::as_str))
        .collect();
    assert!(!jobs.is_empty(), "$job finds no job: {found:?}");
    let escaped: Vec<String> = jobs
        .iter()
        .map(|job| {
            job.chars()
                .map(|c| match c {
                    '"' => String::from("\\\""),
                    c if c.is_ascii_punctuation() && c != '_' => format!("\\\\{c}"),
                    c => c.to_string(),
                })
                .collect()
        })
        .collect();
    format!("({})", escaped.join("|"))
}
