//! SIGTERM and SIGINT, through real child jobs and a real Pushgateway: the final push happens
//! and the job still ends by the signal; an application's own handler keeps control, installed
//! before or after pushtimer's; an ignored signal stays ignored; `PUSHTIMER_SIGNALS=off` turns
//! it off; and a SIGKILL leaves a run that started and never completed.
#![forbid(unsafe_code)]

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use pushtimer_tests::{Gateway, RunningJob, Scrape, spawn_job, tls::TempDir};

const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

/// Starts `promise_job args` against `gateway` as `job`, pushing only at its end (the push
/// interval is an hour, unless `extra` says otherwise), and waits until it runs.
fn start(gateway: &Gateway, job: &str, args: &[&str], extra: &[(&str, &str)]) -> RunningJob {
    start_program(PROMISE_JOB, gateway, job, args, extra)
}

/// [`start`] for any program that ends up running `promise_job`.
fn start_program(
    program: &str,
    gateway: &Gateway,
    job: &str,
    args: &[&str],
    extra: &[(&str, &str)],
) -> RunningJob {
    let url = gateway.url();
    let mut env = vec![
        ("PUSHGATEWAY_URL", url.as_str()),
        ("PUSHGATEWAY_JOB", job),
        ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
    ];
    // Later values win.
    env.extend_from_slice(extra);
    let running = spawn_job(program, args, &env);
    assert!(
        running.wait_for_stderr("running", Duration::from_secs(30)),
        "the job did not start"
    );
    running
}

/// Starts a job that works until it is stopped by a signal (its stop file never appears).
fn start_working(gateway: &Gateway, job: &str, extra: &[(&str, &str)]) -> (TempDir, RunningJob) {
    let dir = TempDir::new("signals");
    let never = dir.path().join("never");
    let running = start(
        gateway,
        job,
        &["until", never.to_str().unwrap(), "0"],
        extra,
    );
    (dir, running)
}

fn record(scrape: &Scrape, name: &str, job: &str, record: &str) -> Option<f64> {
    scrape.value(name, &[("job", job), ("pushtimer_record", record)])
}

fn exit_code(scrape: &Scrape, job: &str) -> Option<f64> {
    record(scrape, "pushtimer_job_exit_code", job, "last_completion")
}

fn calls(scrape: &Scrape, job: &str) -> Option<f64> {
    scrape.value(
        "promise_job_work_seconds_count",
        &[("job", job), ("outcome", "ok")],
    )
}

#[test]
fn a_termination_signal_pushes_then_ends_the_job_by_that_signal() {
    let Some(gateway) = Gateway::start("termination_signals") else {
        return;
    };
    for (name, number) in [("TERM", 15), ("INT", 2)] {
        let job = format!("signal_{name}");
        let (_dir, running) = start_working(&gateway, &job, &[]);
        running.signal(name);
        let run = running.wait();
        assert_eq!(run.status.signal(), Some(number), "{run:#?}");
        let scrape = gateway.scrape();
        assert_eq!(
            exit_code(&scrape, &job),
            Some(f64::from(128 + number)),
            "{name}"
        );
        assert!(
            calls(&scrape, &job).is_some_and(|n| n >= 1.0),
            "{name}: {scrape:#?}"
        );
        assert_eq!(
            record(
                &scrape,
                "pushtimer_job_last_success_timestamp_seconds",
                &job,
                "last_success"
            ),
            None,
            "{name}: killed is no success"
        );
    }
}

#[test]
fn an_application_handler_keeps_control_installed_before_or_after() {
    let Some(gateway) = Gateway::start("application_handler") else {
        return;
    };
    for order in ["before", "after"] {
        let job = format!("handler_{order}");
        let dir = TempDir::new("signals");
        let stop = dir.path().join("never");
        let running = start(
            &gateway,
            &job,
            &["handles-signal", order, stop.to_str().unwrap()],
            &[],
        );
        running.signal("TERM");
        let run = running.wait();
        // The application's shutdown, not the signal's default: exit code 0.
        assert_eq!(run.status.code(), Some(0), "{order}: {run:#?}");
        assert!(run.stdout.contains("graceful"), "{order}: {run:#?}");
        let scrape = gateway.scrape();
        assert_eq!(exit_code(&scrape, &job), Some(0.0), "{order}");
        assert!(calls(&scrape, &job).is_some_and(|n| n >= 1.0), "{order}");
    }
}

#[test]
fn an_ignored_signal_stays_ignored() {
    let Some(gateway) = Gateway::start("ignored_signal") else {
        return;
    };
    let dir = TempDir::new("signals");
    let stop = dir.path().join("never");
    // A shell that ignores SIGINT hands that to the job it runs, as `nohup` and background jobs
    // of non-interactive shells do.
    let running = start_program(
        "sh",
        &gateway,
        "ignored",
        &[
            "-c",
            "trap '' INT; exec \"$0\" until \"$1\" 0",
            PROMISE_JOB,
            stop.to_str().unwrap(),
        ],
        &[],
    );
    // An ignored signal is discarded when sent; the SIGTERM after it is what ends the job.
    running.signal("INT");
    running.signal("TERM");
    let run = running.wait();
    assert_eq!(run.status.signal(), Some(15), "{run:#?}");
    assert_eq!(exit_code(&gateway.scrape(), "ignored"), Some(143.0));
}

#[test]
fn signals_off_leaves_the_default() {
    let Some(gateway) = Gateway::start("signals_off") else {
        return;
    };
    let (_dir, running) = start_working(&gateway, "signals_off", &[("PUSHTIMER_SIGNALS", "off")]);
    running.signal("TERM");
    let run = running.wait();
    assert_eq!(run.status.signal(), Some(15), "{run:#?}");
    // No push at all: the interval is an hour, and nothing took the signal.
    assert_eq!(exit_code(&gateway.scrape(), "signals_off"), None);
    assert_eq!(calls(&gateway.scrape(), "signals_off"), None);
}

#[test]
fn a_killed_run_shows_it_started_and_never_completed() {
    let Some(gateway) = Gateway::start("sigkill") else {
        return;
    };
    let (_dir, running) =
        start_working(&gateway, "killed", &[("PUSHGATEWAY_PUSH_INTERVAL", "10ms")]);
    let started = |scrape: &Scrape| {
        scrape
            .value(
                "pushtimer_job_start_timestamp_seconds",
                &[("job", "killed")],
            )
            .is_some()
    };
    // Its periodic pushes carry the start and the duration so far.
    let scrape = gateway.scrape_until(Duration::from_secs(30), |scrape| {
        started(scrape)
            && scrape
                .value("pushtimer_job_duration_seconds", &[("job", "killed")])
                .is_some()
    });
    assert!(started(&scrape));
    running.signal("KILL");
    let run = running.wait();
    assert_eq!(run.status.signal(), Some(9), "{run:#?}");
    let scrape = gateway.scrape();
    assert!(started(&scrape), "its start stays, from its last push");
    assert_eq!(
        exit_code(&scrape, "killed"),
        None,
        "a killed run records no end"
    );
}
