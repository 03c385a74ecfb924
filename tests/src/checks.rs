//! Assertions the suites share: what a gateway must hold after `exit_job`.

use crate::Scrape;

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
    assert_eq!(scrape.value("upload_seconds_count", &group), Some(1.0));
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
