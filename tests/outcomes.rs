//! The `outcome` label of every `#[timed]` call, through a real child job and a real
//! Pushgateway: `ok`, `error` (an `Err` returned by `?` or by `return`), `panic` and
//! `cancelled`, each counted where it belongs, and no `error` series for a function that
//! cannot fail.
#![forbid(unsafe_code)]

use pushtimer_tests::{Gateway, run_job};

const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

#[test]
fn every_call_is_counted_under_its_outcome() {
    let Some(gateway) = Gateway::start("outcomes") else {
        return;
    };
    let run = run_job(
        PROMISE_JOB,
        &["outcomes"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "outcomes"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.stdout.contains("done"), "{run:#?}");
    let scrape = gateway.scrape();
    let count = |name: &str, outcome: &str| {
        scrape.value(
            &format!("{name}_seconds_count"),
            &[("job", "outcomes"), ("outcome", outcome)],
        )
    };
    assert_eq!(count("promise_job_parse", "ok"), Some(2.0));
    assert_eq!(count("promise_job_parse", "error"), Some(2.0));
    assert_eq!(count("promise_job_parse", "panic"), Some(1.0));
    assert_eq!(
        count("promise_job_parse", "cancelled"),
        None,
        "not an async fn"
    );
    assert_eq!(count("promise_job_wait", "ok"), Some(1.0));
    assert_eq!(count("promise_job_wait", "cancelled"), Some(1.0));
    assert_eq!(count("promise_job_wait", "panic"), Some(0.0));
    assert_eq!(count("promise_job_wait", "error"), None, "cannot fail");
    assert_eq!(count("promise_job_work", "ok"), Some(1.0));
    assert_eq!(count("promise_job_work", "error"), None, "cannot fail");
    assert_eq!(scrape.types["promise_job_parse_seconds"], "summary");
}
