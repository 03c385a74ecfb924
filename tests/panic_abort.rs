//! With `panic = "abort"`, nothing of pushtimer's own panics: the test jobs are built again with
//! that profile (`[profile.panic-abort]` in the workspace's Cargo.toml) and run through the
//! faults a gateway can have, each ending as it would without metrics, with its own exit code
//! (an abort would end it by SIGABRT). A logging backend that panics then aborts the job, as
//! `docs/faults.md` says; that is checked too.
//!
//! The build takes a minute or two, so the test is ignored by the README's `cargo test`;
//! `.ci/run` runs it (`cargo test -p pushtimer-tests --test panic_abort -- --ignored`).
#![forbid(unsafe_code)]

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Command;

use pushtimer_tests::{Behaviour, FakeGateway, Gateway, free_port, run_job};

/// Builds `bins` of this crate with `panic = "abort"`; their paths, in order.
fn build_with_panic_abort(bins: &[&str]) -> Vec<PathBuf> {
    // target/debug/exit_job -> target
    let target = PathBuf::from(env!("CARGO_BIN_EXE_exit_job"))
        .parent()
        .and_then(|debug| debug.parent())
        .expect("the jobs are in the target directory")
        .to_owned();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--profile", "panic-abort", "-p", "pushtimer-tests"])
        .env("CARGO_TARGET_DIR", &target);
    for bin in bins {
        command.args(["--bin", bin]);
    }
    let status = command.status().expect("cargo runs");
    assert!(
        status.success(),
        "building with panic = \"abort\": {status}"
    );
    bins.iter()
        .map(|bin| target.join("panic-abort").join(bin))
        .collect()
}

#[test]
#[ignore = "builds the jobs again with panic = \"abort\" (a minute or two); .ci/run runs it"]
fn with_panic_abort_nothing_of_pushtimers_own_panics() {
    let built = build_with_panic_abort(&["exit_job", "fault_job"]);
    let (exit_job, fault_job) = (built[0].to_str().unwrap(), built[1].to_str().unwrap());

    let gateway = Gateway::start("panic_abort");
    let refused = format!("http://127.0.0.1:{}", free_port());
    let unavailable = FakeGateway::start(Behaviour::Status(503, "overloaded"));
    let blackhole = FakeGateway::start(Behaviour::Blackhole);
    let mut urls = vec![
        refused,
        unavailable.url(),
        blackhole.url(),
        "not a url".into(),
    ];
    urls.extend(gateway.as_ref().map(Gateway::url));
    for url in &urls {
        for (how, code) in [("return", 0), ("err", 1), ("exit3", 3), ("flush", 0)] {
            let run = run_job(
                exit_job,
                &[how, "3"],
                &[
                    ("PUSHGATEWAY_URL", url),
                    ("PUSHGATEWAY_JOB", "panic_abort"),
                    ("PUSHGATEWAY_TIMEOUT", "1s"),
                ],
            );
            assert_eq!(run.status.code(), Some(code), "{url} {how}: {run:#?}");
            assert!(!run.stderr.contains("panicked"), "{url} {how}: {run:#?}");
        }
    }
    if let Some(gateway) = &gateway {
        let count = gateway.scrape().value(
            "exit_job_work_seconds_count",
            &[("job", "panic_abort"), ("outcome", "ok"), ("stage", "work")],
        );
        assert_eq!(count, Some(3.0), "the last run's calls arrived");
    }

    // A logging backend that panics when pushtimer logs takes the job down (documented).
    let run = run_job(
        fault_job,
        &["until", "/nonexistent/never-created"],
        &[
            (
                "PUSHGATEWAY_URL",
                &format!("http://127.0.0.1:{}", free_port()),
            ),
            ("PUSHGATEWAY_PUSH_INTERVAL", "100ms"),
            ("PUSHGATEWAY_TIMEOUT", "300ms"),
            ("FAULT_JOB_PANICKING_LOGGER", "1"),
        ],
    );
    assert_eq!(run.status.signal(), Some(6), "aborted (SIGABRT): {run:#?}");
}
