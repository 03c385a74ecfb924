//! Assertions the suites share: how a finished job must look (clean, or unharmed with exactly
//! one warning, no secret in its output) and what a gateway must hold after `exit_job`.

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
/// query, with the dashboard's variables as "All" (`$job` = `.+`), returns data from `query`
/// (which waits for data, within its own limit).
pub fn assert_dashboard_answers(path: &Path, query: &dyn Fn(&str) -> Vec<Point>) {
    let text = std::fs::read_to_string(path).expect("the dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard parses");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    let mut queries = 0;
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
            let expr = expr.replace("$job", ".+");
            let points = query(&expr);
            assert!(!points.is_empty(), "{title}: no data for {expr}");
            queries += 1;
        }
    }
    assert!(queries >= panels.len());
}
