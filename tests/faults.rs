//! The fault suite: metrics never break the job, and nothing is lost.
//!
//! Every fault is driven through a real child process (`exit_job`, `fault_job`) and judged by
//! what its user sees: the exit code it would have had without metrics, no panic printed, an
//! end well before a hanging gateway would allow, between one and a handful of warnings for the
//! whole run, no secret in any output, and, once the gateway is healthy, the gateway holding
//! exactly what was recorded.
//!
//! The real Pushgateway serves every case it can produce (refused after a kill, restart with
//! state lost, a 400 for an inconsistent type). The blackhole, the slow gateway and the 5xx
//! answers come from in-process loopback fakes, since a real gateway cannot be made to do them.
#![forbid(unsafe_code)]

use std::time::Duration;

use pushtimer_tests::{
    Behaviour, FakeGateway, Gateway, JobRun, RunningJob, Scrape, free_port, http_request,
    in_parallel, run_job, skip, spawn_job,
};

const EXIT_JOB: &str = env!("CARGO_BIN_EXE_exit_job");
const FAULT_JOB: &str = env!("CARGO_BIN_EXE_fault_job");

/// The push deadline the jobs run with.
const DEADLINE: &str = "1s";
/// How long the slow fake takes to answer.
const SLOW_ANSWER: Duration = Duration::from_secs(20);
/// A job that waited for the slow or blackholed gateway instead of giving up at the deadline
/// would run at least [`SLOW_ANSWER`] (or forever); one that keeps to the deadline ends far
/// below this bound. Not a speed measurement: a line between "bounded" and "hanging".
const BOUNDED: Duration = Duration::from_secs(10);
/// Basic-auth credentials the jobs carry, so that every case also checks they never leak.
const USER: &str = "batch";
const SECRET: &str = "Sx-91-never-print-me";
/// The most warnings a whole run may log, however many pushes fail.
const HANDFUL: usize = 5;

/// A gateway URL with credentials in it, for every fault case.
fn with_credentials(url: &str) -> String {
    url.replacen("http://", &format!("http://{USER}:{SECRET}@"), 1)
}

fn run_exit_job(url: &str, how: &str, extra: &[(&str, &str)]) -> JobRun {
    let mut env = vec![
        ("PUSHGATEWAY_URL", url),
        ("PUSHGATEWAY_JOB", "faulty"),
        ("PUSHGATEWAY_TIMEOUT", DEADLINE),
    ];
    env.extend_from_slice(extra);
    run_job(EXIT_JOB, &[how, "3"], &env)
}

/// What every faulty run must look like; `needle` must appear in a warning.
fn assert_unharmed(run: &JobRun, how: &str, needle: &str) {
    let expected = match how {
        "exit3" => 3,
        "panic" => 101,
        _ => 0,
    };
    assert_eq!(run.status.code(), Some(expected), "{run:#?}");
    let panics = run.stderr.matches("panicked").count();
    assert_eq!(panics, usize::from(how == "panic"), "{run:#?}");
    let warnings = run.warnings();
    assert!(
        (1..=HANDFUL).contains(&warnings.len()),
        "{} warnings: {run:#?}",
        warnings.len()
    );
    assert!(
        warnings.iter().any(|w| w.contains(needle)),
        "{needle:?}: {run:#?}"
    );
    assert!(run.elapsed < BOUNDED, "{run:#?}");
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "{run:#?}"
    );
}

/// Faults 1–3 and 8: nothing listening, a blackhole, a slow gateway, each under every way a
/// job can end. The nine runs are independent (each its own job process; the fakes take any
/// number of connections) and mostly wait out their deadline, so they run at once.
#[test]
fn dead_blackholed_and_slow_gateways_under_every_ending() {
    let blackhole = FakeGateway::start(Behaviour::Blackhole);
    let slow = FakeGateway::start(Behaviour::Slow(SLOW_ANSWER));
    let refused = format!("http://127.0.0.1:{}", free_port());
    let mut cases = Vec::new();
    for (url, needle) in [
        (refused, "connection refused"),
        (blackhole.url(), "no answer within the push deadline"),
        (slow.url(), "no answer within the push deadline"),
    ] {
        for how in ["return", "exit3", "panic"] {
            cases.push((with_credentials(&url), how, needle));
        }
    }
    in_parallel(&cases, |(url, how, needle)| {
        let run = run_exit_job(url, how, &[]);
        assert_unharmed(&run, how, needle);
    });
}

/// Fault 4: 503s, then a 500 with a body, each reported with its code and the body.
#[test]
fn server_errors_are_reported_with_code_and_body() {
    for (code, body) in [(503, "overloaded"), (500, "disk full: cannot persist")] {
        let fake = FakeGateway::start(Behaviour::Status(code, body));
        let run = run_exit_job(&with_credentials(&fake.url()), "exit3", &[]);
        assert_unharmed(&run, "exit3", &format!("HTTP {code}: {body}"));
    }
}

/// Fault 4: the real gateway refuses a summary whose name another group owns as a gauge.
#[test]
fn an_inconsistent_push_gets_the_real_gateways_reason() {
    let Some(gateway) = Gateway::start("an_inconsistent_push_gets_the_real_gateways_reason") else {
        return;
    };
    let (code, body) = http_request(
        "PUT",
        &format!("{}/metrics/job/other", gateway.url()),
        Some("# TYPE exit_job_wait_seconds gauge\nexit_job_wait_seconds 1\n"),
    )
    .expect("gateway reachable");
    assert_eq!(code, 200, "{body}");
    let run = run_exit_job(&gateway.url(), "exit3", &[]);
    assert_unharmed(&run, "exit3", "HTTP 400");
    assert!(
        run.warnings()[0].contains("exit_job_wait_seconds"),
        "{run:#?}"
    );
    let scrape = gateway.scrape();
    assert!(
        scrape
            .find("push_failure_time_seconds", &[("job", "faulty")])
            .iter()
            .any(|s| s.value > 0.0),
        "the gateway records the failed push"
    );
}

/// Fault 5: the real gateway is killed and restarted (state lost) while a job pushes as it
/// goes; the final state is complete and exact.
#[test]
fn a_gateway_restart_mid_job_loses_nothing() {
    let Some(mut gateway) = Gateway::start("a_gateway_restart_mid_job_loses_nothing") else {
        return;
    };
    let stop = stop_file("restart");
    let job = spawn_job(
        FAULT_JOB,
        &["until", &stop],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "restarted"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "100ms"),
            ("PUSHGATEWAY_TIMEOUT", DEADLINE),
        ],
    );
    let work = [("job", "restarted")];
    let pushed = |s: &Scrape| has_work(s, &work);
    assert!(pushed(&gateway.scrape_until(BOUNDED, pushed)), "first push");
    gateway.restart();
    assert!(
        pushed(&gateway.scrape_until(BOUNDED, pushed)),
        "pushing resumed after the restart"
    );
    stop_and_assert_exact(job, &stop, &gateway, &work);
}

/// Fault 6: a host name that does not resolve. The job runs in a network namespace of its own
/// (`unshare -n`), so the lookup cannot leave the machine.
#[test]
fn an_unresolvable_host_is_named_as_such() {
    let isolated = std::process::Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|status| status.success());
    if !isolated {
        skip(
            "an_unresolvable_host_is_named_as_such",
            "`unshare -n` is not permitted here, and the lookup must not leave the machine",
            "run as root, as CI does",
        );
        return;
    }
    let run = run_job(
        "unshare",
        &["-n", EXIT_JOB, "exit3", "3"],
        &[
            (
                "PUSHGATEWAY_URL",
                &with_credentials("http://pushgateway.invalid:9091"),
            ),
            ("PUSHGATEWAY_TIMEOUT", DEADLINE),
        ],
    );
    assert_unharmed(&run, "exit3", "host not found");
}

/// Fault 7: malformed settings cost one warning naming the variable; what is fine still works.
#[test]
fn malformed_settings_are_named_and_the_rest_still_works() {
    for (url, how) in [("not a url", "exit3"), ("ftp://127.0.0.1:21", "panic")] {
        let run = run_exit_job(url, how, &[]);
        assert_unharmed(&run, how, "PUSHGATEWAY_URL");
    }
    let Some(gateway) = Gateway::start("malformed_settings_are_named_and_the_rest_still_works")
    else {
        return;
    };
    let run = run_exit_job(
        &gateway.url(),
        "return",
        &[
            ("PUSHGATEWAY_TIMEOUT", "banana"),
            // `le` and `quantile` would make the gateway refuse every push of the group.
            (
                "PUSHTIMER_LABELS",
                "team=ml,oops,job=x,9bad=1,le=1,quantile=0.5,project=seg",
            ),
            // Would name the job's series like pushtimer's own families.
            ("PUSHTIMER_NAMESPACE", "pushtimer"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let warnings = run.warnings();
    assert!(
        warnings.iter().any(|w| w.contains("PUSHGATEWAY_TIMEOUT")),
        "{run:#?}"
    );
    let label_warnings = warnings
        .iter()
        .filter(|w| w.contains("PUSHTIMER_LABELS"))
        .count();
    assert_eq!(label_warnings, 5, "one per bad pair: {run:#?}");
    let namespace_warnings = warnings
        .iter()
        .filter(|w| w.contains("PUSHTIMER_NAMESPACE"))
        .count();
    assert_eq!(namespace_warnings, 1, "{run:#?}");
    // The good labels are kept, and pushing works with the default deadline.
    let kept = [
        ("job", "faulty"),
        ("team", "ml"),
        ("project", "seg"),
        ("stage", "work"),
        ("outcome", "ok"),
    ];
    assert_eq!(
        gateway.scrape().value("exit_job_work_seconds_count", &kept),
        Some(3.0)
    );
}

/// Fault 9: the background thread hits a panic (the logging backend panics whenever the push
/// thread logs): pushing carries on and the job is unharmed.
#[test]
fn a_panic_in_the_push_thread_does_not_stop_pushing() {
    let port = free_port();
    let stop = stop_file("panicking-logger");
    let job = spawn_job(
        FAULT_JOB,
        &["until", &stop],
        &[
            ("PUSHGATEWAY_URL", &format!("http://127.0.0.1:{port}")),
            ("PUSHGATEWAY_JOB", "panicking_logger"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "100ms"),
            ("PUSHGATEWAY_TIMEOUT", "300ms"),
            ("FAULT_JOB_PANICKING_LOGGER", "1"),
        ],
    );
    // The first push fails; logging that failure panics inside the push thread.
    assert!(
        job.wait_for_stderr("the logging backend failed on purpose", BOUNDED),
        "the injected panic happened"
    );
    let Some(gateway) = Gateway::start_at("a_panic_in_the_push_thread_does_not_stop_pushing", port)
    else {
        std::fs::write(&stop, "").expect("stop file");
        let _ = job.wait();
        return;
    };
    let work = [("job", "panicking_logger")];
    let pushed = |s: &Scrape| has_work(s, &work);
    assert!(
        pushed(&gateway.scrape_until(BOUNDED, pushed)),
        "pushing carried on after the panic"
    );
    stop_and_assert_exact(job, &stop, &gateway, &work);
}

/// Fault 10: `flush()` while the gateway is down returns an error value within the deadline,
/// naming the group's URL.
#[test]
fn flush_returns_an_error_value_while_the_gateway_is_down() {
    let refused = format!("http://127.0.0.1:{}", free_port());
    let blackhole = FakeGateway::start(Behaviour::Blackhole);
    // Independent runs, at once: the blackholed one waits out its deadline.
    let cases = [
        (refused, "connection refused"),
        (blackhole.url(), "no answer within the push deadline"),
    ];
    in_parallel(&cases, |(url, reason)| {
        let run = run_exit_job(url, "flush", &[]);
        assert_unharmed(&run, "flush", reason);
        assert!(
            run.stdout.contains(&format!(
                "flush: not delivered to {url}/metrics/job/faulty: {reason}"
            )),
            "{run:#?}"
        );
    });
}

/// 2 threads × 500,000 calls while the background thread pushes every 10 ms: no observation is
/// lost or counted twice by a push racing a call.
#[test]
fn a_million_calls_under_concurrent_pushing_arrive_exactly() {
    let Some(gateway) = Gateway::start("a_million_calls_under_concurrent_pushing_arrive_exactly")
    else {
        return;
    };
    let run = run_job(
        FAULT_JOB,
        &["load"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "load"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "10ms"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let recorded_sum: f64 = printed(&run, "sum=").parse().expect("a number");
    let scrape = gateway.scrape();
    let job = [("job", "load")];
    let work = [("job", "load"), ("outcome", "ok")];
    assert_eq!(
        scrape.value("fault_job_work_seconds_count", &work),
        Some(1_000_000.0)
    );
    assert_eq!(
        scrape.value("fault_job_work_seconds_sum", &work),
        Some(recorded_sum)
    );
    assert_eq!(
        scrape.value("fault_job_fixed_seconds_count", &job),
        Some(1_000_000.0)
    );
    // 1,000,000 × 1,234 ns, exactly: the sum is kept in integer nanoseconds.
    assert_eq!(
        scrape.value("fault_job_fixed_seconds_sum", &job),
        Some(1.234)
    );
}

/// 2,000 series go out in one push within the deadline.
#[test]
fn two_thousand_series_in_one_push() {
    let Some(gateway) = Gateway::start("two_thousand_series_in_one_push") else {
        return;
    };
    let run = run_job(
        FAULT_JOB,
        &["many", "2000"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "many"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
            ("PUSHGATEWAY_TIMEOUT", "5s"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    let scrape = gateway.scrape();
    let counts = scrape.find("fault_job_many_seconds_count", &[("job", "many")]);
    assert_eq!(counts.len(), 2000);
    assert!(counts.iter().all(|s| s.value == 1.0));
    assert_eq!(
        scrape.value(
            "fault_job_many_seconds_sum",
            &[("job", "many"), ("series", "1999")]
        ),
        Some(0.5)
    );
}

/// Whether the gateway holds some of `fault_job`'s calls for this group.
fn has_work(scrape: &Scrape, group: &[(&str, &str)]) -> bool {
    scrape
        .value("fault_job_work_seconds_count", &ok(group))
        .is_some_and(|n| n > 0.0)
}

/// `group` and `outcome="ok"`: the series of the calls that returned.
fn ok<'a>(group: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut labels = group.to_vec();
    labels.push(("outcome", "ok"));
    labels
}

/// Ends a `fault_job until` run: it must exit 0 with at most a handful of warnings, and the
/// gateway must hold exactly the calls it made.
fn stop_and_assert_exact(job: RunningJob, stop: &str, gateway: &Gateway, group: &[(&str, &str)]) {
    std::fs::write(stop, "").expect("stop file");
    let run = job.wait();
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.warnings().len() <= HANDFUL, "{run:#?}");
    let calls: f64 = printed(&run, "calls=").parse().expect("a number");
    assert_eq!(
        gateway
            .scrape()
            .value("fault_job_work_seconds_count", &ok(group)),
        Some(calls)
    );
}

fn stop_file(name: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "pushtimer-fault-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_file(&path);
    path.to_str().expect("UTF-8 temp path").to_owned()
}

fn printed<'a>(run: &'a JobRun, prefix: &str) -> &'a str {
    run.stdout
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("{prefix} not printed: {run:#?}"))
}
