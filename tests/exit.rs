//! The final push happens however the job ends, and never changes how it ends.
//!
//! Each test runs `exit_job` as a child process against a real Pushgateway. The push interval
//! is set to an hour, so what reaches the gateway can only have come from the final push at
//! exit.
#![forbid(unsafe_code)]

use pushtimer_tests::{Gateway, JobRun, assert_exit_job_complete, run_job};

const JOB: &str = env!("CARGO_BIN_EXE_exit_job");

fn run(gateway: &Gateway, job: &str, how: &str) -> JobRun {
    run_job(
        JOB,
        &[how, "5"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", job),
            ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
        ],
    )
}

#[test]
fn returning_from_main_pushes_and_exits_0() {
    let Some(gateway) = Gateway::start("returning_from_main_pushes_and_exits_0") else {
        return;
    };
    let run = run(&gateway, "exit_return", "return");
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    assert!(run.warnings().is_empty(), "{run:?}");
    assert_exit_job_complete(&gateway.scrape(), "exit_return", &[]);
}

#[test]
fn process_exit_pushes_and_keeps_its_code() {
    let Some(gateway) = Gateway::start("process_exit_pushes_and_keeps_its_code") else {
        return;
    };
    let run = run(&gateway, "exit_3", "exit3");
    assert_eq!(run.status.code(), Some(3), "{run:?}");
    assert_exit_job_complete(&gateway.scrape(), "exit_3", &[]);
}

#[test]
fn panic_in_main_pushes_and_keeps_code_101() {
    let Some(gateway) = Gateway::start("panic_in_main_pushes_and_keeps_code_101") else {
        return;
    };
    let run = run(&gateway, "exit_panic", "panic");
    assert_eq!(run.status.code(), Some(101), "{run:?}");
    assert!(run.stderr.contains("the job failed on purpose"), "{run:?}");
    assert_exit_job_complete(&gateway.scrape(), "exit_panic", &[]);
}

#[test]
fn flush_pushes_and_reports_success() {
    let Some(gateway) = Gateway::start("flush_pushes_and_reports_success") else {
        return;
    };
    let run = run(&gateway, "exit_flush", "flush");
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    assert!(run.stdout.contains("flush: ok"), "{run:?}");
    assert_exit_job_complete(&gateway.scrape(), "exit_flush", &[]);
}

#[test]
fn without_a_url_nothing_is_pushed_and_nothing_is_logged() {
    let run = run_job(JOB, &["return", "2"], &[]);
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
}
