//! A broken Pushgateway costs the job one clear warning and nothing else: the exit code is
//! kept, no panic is printed, and the job ends within the push deadline.
//!
//! The job is `exit_job` run as a child process. The real Pushgateway serves the 400 case; the
//! blackhole and the 503 come from an in-process fake, since a real gateway cannot be made to
//! do either.

use pushtimer_tests::{Behaviour, FakeGateway, Gateway, JobRun, free_port, http_request, run_job};

const JOB: &str = env!("CARGO_BIN_EXE_exit_job");

fn run_against(url: &str, how: &str, extra: &[(&str, &str)]) -> JobRun {
    let mut env = vec![
        ("PUSHGATEWAY_URL", url),
        ("PUSHGATEWAY_JOB", "failing"),
        ("PUSHGATEWAY_TIMEOUT", "500ms"),
    ];
    env.extend_from_slice(extra);
    run_job(JOB, &[how, "3"], &env)
}

/// Exactly one pushtimer warning, containing every one of `needles`; no panic.
fn assert_one_warning(run: &JobRun, needles: &[&str]) {
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run:#?}");
    for needle in needles {
        assert!(
            warnings[0].contains(needle),
            "{needle:?} missing in {run:#?}"
        );
    }
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

#[test]
fn connection_refused() {
    let url = format!("http://127.0.0.1:{}", free_port());
    for (how, code) in [("return", 0), ("exit3", 3)] {
        let run = run_against(&url, how, &[]);
        assert_eq!(run.status.code(), Some(code), "{run:#?}");
        assert_one_warning(&run, &["connection refused", &url]);
    }
}

#[test]
fn a_gateway_that_never_answers_costs_at_most_the_deadline() {
    let fake = FakeGateway::start(Behaviour::Blackhole);
    let run = run_against(&fake.url(), "exit3", &[]);
    assert_eq!(run.status.code(), Some(3), "{run:#?}");
    assert_one_warning(&run, &["no answer within the push deadline"]);
}

#[test]
fn status_503_is_reported_with_its_code() {
    let fake = FakeGateway::start(Behaviour::Status(503, "overloaded"));
    let run = run_against(&fake.url(), "return", &[]);
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert_one_warning(&run, &["HTTP 503", "overloaded"]);
}

#[test]
fn flush_returns_the_error_to_the_job() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let run = run_against(&url, "flush", &[]);
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.stdout.contains("flush: connection refused"), "{run:#?}");
    assert_one_warning(&run, &["connection refused"]);
}

#[test]
fn bad_settings_are_named_once_and_the_job_runs_on() {
    for (url, needle) in [
        ("not a url", "PUSHGATEWAY_URL"),
        ("ftp://127.0.0.1:21", "PUSHGATEWAY_URL"),
    ] {
        let run = run_against(url, "exit3", &[]);
        assert_eq!(run.status.code(), Some(3), "{run:#?}");
        assert_one_warning(&run, &[needle]);
    }
    let url = format!("http://127.0.0.1:{}", free_port());
    let run = run_against(&url, "return", &[("PUSHGATEWAY_TIMEOUT", "banana")]);
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let warnings = run.warnings();
    assert!(
        warnings.iter().any(|w| w.contains("PUSHGATEWAY_TIMEOUT")),
        "{run:#?}"
    );
}

#[test]
fn a_400_from_the_real_gateway_carries_its_reason() {
    let Some(gateway) = Gateway::start("a_400_from_the_real_gateway_carries_its_reason") else {
        return;
    };
    // Another group owns the name with another type: the gateway refuses our summary.
    let (code, body) = http_request(
        "PUT",
        &format!("{}/metrics/job/other", gateway.url()),
        Some("# TYPE exit_job_wait_seconds gauge\nexit_job_wait_seconds 1\n"),
    )
    .expect("gateway reachable");
    assert_eq!(code, 200, "{body}");
    let run = run_against(&gateway.url(), "exit3", &[]);
    assert_eq!(run.status.code(), Some(3), "{run:#?}");
    assert_one_warning(&run, &["HTTP 400", "exit_job_wait_seconds"]);
    let scrape = gateway.scrape();
    assert!(
        scrape
            .find("push_failure_time_seconds", &[("job", "failing")])
            .iter()
            .any(|s| s.value > 0.0),
        "the gateway records the failed push"
    );
}
