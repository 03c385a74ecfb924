//! Pacing through real child jobs: a server that struggles stretches the push interval, a
//! `Retry-After` is honoured (and not waited for within a push it does not fit), and a healthy
//! gateway leaves the interval as set. The struggling servers are the in-process fake (a real
//! Pushgateway cannot be made to answer 429 or 503); the healthy one is a real Pushgateway.
//! The fleet-wide effect is measured by the fleet simulation in `bench/` (BENCHMARKS.md).
#![forbid(unsafe_code)]

use pushtimer_tests::{Behaviour, FakeGateway, Gateway, JobRun, run_job};

const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

/// Runs `promise_job pacing` (one call, one flush, then prints the push thread's pacing)
/// against `url` with a 100 s interval (no periodic round comes before the flush: only the
/// flush teaches the pacing) and a 1 s deadline.
fn pacing_against(url: &str) -> JobRun {
    pacing_with(url, &[])
}

/// [`pacing_against`] with `extra` variables set too.
fn pacing_with(url: &str, extra: &[(&str, &str)]) -> JobRun {
    let mut env = vec![
        ("PUSHGATEWAY_URL", url),
        ("PUSHGATEWAY_JOB", "pacing"),
        ("PUSHGATEWAY_PUSH_INTERVAL", "100s"),
        ("PUSHGATEWAY_TIMEOUT", "1s"),
    ];
    env.extend_from_slice(extra);
    run_job(PROMISE_JOB, &["pacing"], &env)
}

#[test]
fn a_429_with_retry_after_stretches_the_interval_and_is_honoured() {
    let fake = FakeGateway::start(Behaviour::RecordStatus {
        code: 429,
        retry_after: Some("120"),
    });
    let run = pacing_against(&fake.url());
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(
        run.stdout
            .contains("flush=err interval_ms=200000 retry_after_s=120"),
        "{run:#?}"
    );
    // The flush did not wait two minutes inside its 1 s deadline: one attempt; then the final
    // push at exit, which is not paced (the job is ending) and does not retry either (the
    // records of the run's end go to groups of their own).
    let group_pushes = fake
        .requests()
        .iter()
        .filter(|request| request.path == "/metrics/job/pacing")
        .count();
    assert_eq!(group_pushes, 2);
    assert!(run.warnings()[0].contains("HTTP 429"), "{run:#?}");
}

#[test]
fn a_503_without_retry_after_stretches_the_interval_and_is_retried_within_the_deadline() {
    let fake = FakeGateway::start(Behaviour::RecordStatus {
        code: 503,
        retry_after: None,
    });
    // At exit the group is deleted rather than pushed, so every PUT of the group is the
    // flush's (the records of the run's end go to groups of their own).
    let run = pacing_with(&fake.url(), &[("PUSHGATEWAY_DELETE_ON_EXIT", "1")]);
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(
        run.stdout
            .contains("flush=err interval_ms=200000 retry_after_s=0"),
        "{run:#?}"
    );
    let flush_attempts = fake
        .requests()
        .iter()
        .filter(|request| request.method == "PUT" && request.path == "/metrics/job/pacing")
        .count();
    // Retried within its deadline: more than the one quick retry a server that never answered
    // gets (503 is an answer).
    assert!(
        flush_attempts >= 3,
        "the flush retried within its deadline: {flush_attempts}"
    );
}

#[test]
fn a_healthy_gateway_keeps_the_interval_as_set() {
    let Some(gateway) = Gateway::start("pacing_healthy") else {
        return;
    };
    let run = pacing_against(&gateway.url());
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(
        run.stdout
            .contains("flush=ok interval_ms=100000 retry_after_s=0"),
        "{run:#?}"
    );
    assert!(run.warnings().is_empty(), "{run:#?}");
}
