//! The job itself: every way a run ends is recorded (start, duration, completion, exit code,
//! success), against a real Pushgateway, and a failed run never erases the last success.
#![forbid(unsafe_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushtimer_tests::{Gateway, Scrape, run_job, spawn_job, tls::TempDir};

const EXIT_JOB: &str = env!("CARGO_BIN_EXE_exit_job");
const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

fn gauge(scrape: &Scrape, name: &str, job: &str, record: Option<&str>) -> Option<f64> {
    let mut labels = vec![("job", job)];
    labels.extend(record.map(|record| ("pushtimer_record", record)));
    let found = scrape.find(name, &labels);
    // The job's own group has no `pushtimer_record` label.
    let found: Vec<_> = found
        .into_iter()
        .filter(|s| record.is_some() || !s.labels.contains_key("pushtimer_record"))
        .collect();
    match found.as_slice() {
        [one] => Some(one.value),
        _ => None,
    }
}

/// A run that ends before its first timed call (a bad argument, a missing input: where most
/// real failures happen) is recorded too, with its exit code, with no code of the job's.
#[test]
fn a_run_that_ends_before_its_first_timed_call_is_recorded() {
    let Some(gateway) = Gateway::start("ends_early") else {
        return;
    };
    for (how, code) in [("early-exit2", 2), ("early-err", 1)] {
        let job = format!("ends_{how}");
        let before = now();
        let run = run_job(
            EXIT_JOB,
            &[how],
            &[
                ("PUSHGATEWAY_URL", &gateway.url()),
                ("PUSHGATEWAY_JOB", &job),
            ],
        );
        assert_eq!(run.status.code(), Some(code), "{run:#?}");
        assert!(run.warnings().is_empty(), "{run:#?}");
        let scrape = gateway.scrape();
        let exit_code = gauge(
            &scrape,
            "pushtimer_job_exit_code",
            &job,
            Some("last_completion"),
        );
        assert_eq!(exit_code, Some(f64::from(code)), "{how}: {scrape:#?}");
        let start = gauge(&scrape, "pushtimer_job_start_timestamp_seconds", &job, None);
        assert!(
            start.is_some_and(|start| start >= before),
            "{how}: {start:?}"
        );
        let success = gauge(
            &scrape,
            "pushtimer_job_last_success_timestamp_seconds",
            &job,
            Some("last_success"),
        );
        assert_eq!(success, None, "{how}: a failure is no success");
        assert!(
            scrape
                .find("exit_job_work_seconds_count", &[("job", &job)])
                .is_empty(),
            "{how}: nothing was timed"
        );
    }
}

/// `cargo run` `exec`s the job: the process started when cargo did, the program after the
/// compile, and the run is the program's. Here a shell stands in for cargo, waiting a second
/// (the "compile") before it `exec`s the job.
#[test]
fn the_run_starts_when_the_program_does_not_when_its_process_did() {
    let Some(gateway) = Gateway::start("program_start") else {
        return;
    };
    let before = now();
    let run = run_job(
        "sh",
        &["-c", "sleep 1 && exec \"$0\" return 1", EXIT_JOB],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "program_start"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let scrape = gateway.scrape();
    let start = gauge(
        &scrape,
        "pushtimer_job_start_timestamp_seconds",
        "program_start",
        None,
    )
    .unwrap_or_else(|| panic!("no start: {scrape:#?}"));
    assert!(
        start >= before + 1.0,
        "{start} is before the exec ({before} + 1 s)"
    );
}

#[test]
fn every_ending_records_start_duration_completion_exit_code_and_success() {
    let Some(gateway) = Gateway::start("every_ending") else {
        return;
    };
    for (how, code) in [
        ("return", 0),
        ("err", 1),
        ("exit0", 0),
        ("exit3", 3),
        ("panic", 101),
    ] {
        let job = format!("ending_{how}");
        let before = now();
        let run = run_job(
            EXIT_JOB,
            &[how, "5"],
            &[
                ("PUSHGATEWAY_URL", &gateway.url()),
                ("PUSHGATEWAY_JOB", &job),
                ("PUSHTIMER_EXPECTED_INTERVAL", "24h"),
                ("PUSHTIMER_LABELS", "team=ml"),
                ("PUSHTIMER_NAMESPACE", "ns"),
            ],
        );
        assert_eq!(run.status.code(), Some(code), "{run:#?}");
        let after = now();
        let scrape = gateway.scrape();
        let start = gauge(&scrape, "pushtimer_job_start_timestamp_seconds", &job, None)
            .unwrap_or_else(|| panic!("{how}: no start: {scrape:#?}"));
        assert!(
            before <= start && start <= after,
            "{how}: {before} <= {start} <= {after}"
        );
        let duration = gauge(&scrape, "pushtimer_job_duration_seconds", &job, None)
            .unwrap_or_else(|| panic!("{how}: no duration"));
        assert!(
            duration >= 0.0 && start + duration <= after,
            "{how}: {duration}"
        );
        let completion = gauge(
            &scrape,
            "pushtimer_job_last_completion_timestamp_seconds",
            &job,
            Some("last_completion"),
        )
        .unwrap_or_else(|| panic!("{how}: no completion"));
        assert!(
            start <= completion && completion <= after,
            "{how}: {completion}"
        );
        assert_eq!(
            gauge(
                &scrape,
                "pushtimer_job_exit_code",
                &job,
                Some("last_completion")
            ),
            Some(f64::from(code)),
            "{how}"
        );
        let success = gauge(
            &scrape,
            "pushtimer_job_last_success_timestamp_seconds",
            &job,
            Some("last_success"),
        );
        if code == 0 {
            assert!(
                success.is_some_and(|s| start <= s && s <= after),
                "{how}: {success:?}"
            );
        } else {
            assert_eq!(success, None, "{how}: a failed run is no success");
        }
        assert_eq!(
            gauge(
                &scrape,
                "pushtimer_job_expected_interval_seconds",
                &job,
                None
            ),
            Some(86_400.0),
            "{how}"
        );
        // Constant labels apply to the job's own metrics; the namespace does not (the gauges
        // above were found under their own names), while the timed series have it.
        let team = scrape.find("pushtimer_job_exit_code", &[("job", &job), ("team", "ml")]);
        assert_eq!(team.len(), 1, "{how}: {team:#?}");
        let namespaced = scrape.find("ns_exit_job_work_seconds_count", &[("job", &job)]);
        assert!(!namespaced.is_empty(), "{how}: {scrape:#?}");
        assert!(
            scrape
                .types
                .keys()
                .all(|name| !name.starts_with("ns_pushtimer")),
            "{how}: {:?}",
            scrape.types.keys()
        );
        assert_eq!(scrape.types["pushtimer_job_exit_code"], "gauge");
    }
}

fn refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn a_failed_run_never_erases_the_last_success() {
    let Some(gateway) = Gateway::start("ok_fail_ok") else {
        return;
    };
    let env = |method: &'static str| {
        vec![
            ("PUSHGATEWAY_URL", gateway.url()),
            ("PUSHGATEWAY_JOB", "nightly".to_owned()),
            ("PUSHGATEWAY_METHOD", method.to_owned()),
            ("PUSHGATEWAY_PUSH_INTERVAL", "10ms".to_owned()),
        ]
    };
    let success = |scrape: &Scrape| {
        gauge(
            scrape,
            "pushtimer_job_last_success_timestamp_seconds",
            "nightly",
            Some("last_success"),
        )
    };

    // Run 1 succeeds.
    let run = run_job(EXIT_JOB, &["return", "2"], &refs(&env("put")));
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let first = success(&gateway.scrape()).expect("run 1 recorded its success");

    // Run 2 pushes all along (with either method), then fails with exit code 3.
    for method in ["put", "post"] {
        let dir = TempDir::new("ok_fail_ok");
        let stop = dir.path().join("stop");
        let job = spawn_job(
            PROMISE_JOB,
            &["until", stop.to_str().unwrap(), "3"],
            &refs(&env(method)),
        );
        // While it runs: its own start is pushed, and the last success is still run 1's.
        let running = gateway.scrape_until(Duration::from_secs(20), |scrape| {
            gauge(
                scrape,
                "pushtimer_job_start_timestamp_seconds",
                "nightly",
                None,
            )
            .is_some_and(|start| start > first)
        });
        assert_eq!(success(&running), Some(first), "{method}: while run 2 runs");
        std::fs::write(&stop, "").expect("stop file");
        let run = job.wait();
        assert_eq!(run.status.code(), Some(3), "{run:#?}");
        let failed = gateway.scrape();
        assert_eq!(
            success(&failed),
            Some(first),
            "{method}: after run 2 failed"
        );
        assert_eq!(
            gauge(
                &failed,
                "pushtimer_job_exit_code",
                "nightly",
                Some("last_completion")
            ),
            Some(3.0)
        );
        let completion = gauge(
            &failed,
            "pushtimer_job_last_completion_timestamp_seconds",
            "nightly",
            Some("last_completion"),
        );
        assert!(completion.is_some_and(|c| c > first), "{completion:?}");
    }

    // Run 3 succeeds: its success replaces run 1's.
    let run = run_job(EXIT_JOB, &["exit0", "2"], &refs(&env("put")));
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let scrape = gateway.scrape();
    let third = success(&scrape).expect("run 3 recorded its success");
    assert!(third > first, "{third} > {first}");
    assert_eq!(
        gauge(
            &scrape,
            "pushtimer_job_exit_code",
            "nightly",
            Some("last_completion")
        ),
        Some(0.0)
    );
}

#[test]
fn delete_on_exit_deletes_the_run_and_keeps_the_records() {
    let Some(gateway) = Gateway::start("delete_keeps_records") else {
        return;
    };
    let run = run_job(
        EXIT_JOB,
        &["return", "2"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "ephemeral"),
            ("PUSHGATEWAY_DELETE_ON_EXIT", "true"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let scrape = gateway.scrape();
    assert!(
        scrape
            .find("exit_job_work_seconds_count", &[("job", "ephemeral")])
            .is_empty(),
        "the run's group is deleted"
    );
    assert_eq!(
        gauge(
            &scrape,
            "pushtimer_job_exit_code",
            "ephemeral",
            Some("last_completion")
        ),
        Some(0.0)
    );
    assert!(
        gauge(
            &scrape,
            "pushtimer_job_last_success_timestamp_seconds",
            "ephemeral",
            Some("last_success")
        )
        .is_some()
    );
}
