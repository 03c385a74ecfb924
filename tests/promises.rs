//! "Every promise kept": the ways a hostile tester broke pushtimer's promise (metrics never
//! hurt the job, nothing recorded is lost, no secret leaks), each driven through a real child
//! job (`promise_job`) and judged by what its user sees, or, where it is about values, in
//! process.
//!
//! The real Pushgateway serves every case it can; the harness's fakes serve what it cannot be
//! made to do (hang up without answering, answer with a huge or a trickling error body), and
//! each test says so.
#![forbid(unsafe_code)]

use std::time::Duration;

use pushtimer_tests::tls::TempDir;
use pushtimer_tests::{Behaviour, FakeGateway, Gateway, JobRun, Scrape, free_port, run_job, skip};

const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

/// The most warnings a whole run may print.
const HANDFUL: usize = 5;

fn refused_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// Everything the job printed.
fn output(run: &JobRun) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

/// The job ended as it would have without pushtimer, and pushtimer did not panic.
fn assert_clean_exit(run: &JobRun) {
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

// 1. A logger that itself calls a timed function.

#[test]
fn a_logger_that_times_itself_never_deadlocks() {
    // Basic auth over http and a bad timeout: two settings problems, reported while the first
    // timed call (inside the logger) sets pushtimer up; then a label conflict, reported while
    // the registry resolves a call site. The job's limit would end a deadlock as a failure.
    let url = refused_url().replace("http://", "http://user:pw@");
    let run = run_job(
        PROMISE_JOB,
        &["reentrant-logger"],
        &[("PUSHGATEWAY_URL", &url), ("PUSHGATEWAY_TIMEOUT", "banana")],
    );
    assert_clean_exit(&run);
    assert!(run.stdout.contains("done"), "{run:#?}");
    let warnings = run.warnings();
    for needle in ["PUSHGATEWAY_TIMEOUT", "clear text", "promise_job_conflict"] {
        assert!(
            warnings.iter().any(|w| w.contains(needle)),
            "{needle}: {run:#?}"
        );
    }
}

// 2. Secrets in the URL.

#[test]
fn no_part_of_a_password_in_the_url_is_ever_printed() {
    for password in [
        "Zm9v/YmFy+==",
        "s3cr#t?x=1",
        "p@ss/w0rd@",
        "tr1cky%zz/q\"u",
        "a b/c",
    ] {
        let port = free_port();
        for url in [
            format!("https://batch:{password}@127.0.0.1:{port}"),
            format!("http://batch:{password}@127.0.0.1:{port}/prefix"),
            format!("https://batch:{password}@127.0.0.1:notaport"),
            format!("ftp://batch:{password}@127.0.0.1"),
            format!("batch:{password}@127.0.0.1:{port}"),
        ] {
            let run = run_job(PROMISE_JOB, &["short"], &[("PUSHGATEWAY_URL", &url)]);
            assert_clean_exit(&run);
            let printed = output(&run);
            assert!(!run.warnings().is_empty(), "{url}: {run:#?}");
            // The whole password, and every piece of it between the characters that end a
            // URL component.
            let pieces = password.split(['/', '#', '?', '@', '"', ' ', '%', '=', '+']);
            for secret in std::iter::once(password).chain(pieces.filter(|p| p.len() >= 3)) {
                assert!(!printed.contains(secret), "{secret:?} of {url}: {run:#?}");
            }
            assert!(!printed.contains("batch"), "{url}: {run:#?}");
        }
    }
}

#[test]
fn an_unencoded_password_is_warned_about_and_still_works() {
    let Some(gateway) = Gateway::start("unencoded_password") else {
        return;
    };
    let url = gateway
        .url()
        .replace("http://", "http://batch:Zm9v/YmFy+==@");
    let run = run_job(
        PROMISE_JOB,
        &["short"],
        &[("PUSHGATEWAY_URL", &url), ("PUSHGATEWAY_JOB", "unencoded")],
    );
    assert_clean_exit(&run);
    assert!(
        run.warnings().iter().any(|w| w.contains("percent-encoded")),
        "{run:#?}"
    );
    assert!(!output(&run).contains("YmFy"), "{run:#?}");
    let scrape = gateway.scrape();
    assert_eq!(
        scrape.value(
            "promise_job_work_seconds_count",
            &[("job", "unencoded"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
}

// 3. Durations at the edges of their range.

#[test]
fn durations_at_the_edges_never_panic_and_still_push() {
    let Some(gateway) = Gateway::start("duration_edges") else {
        return;
    };
    for (i, text) in [
        "1e19",
        "300000000000y",
        "18446744073709551615",
        "1e400",
        "0",
        "1ns",
    ]
    .iter()
    .enumerate()
    {
        let job = format!("edges{i}");
        let run = run_job(
            PROMISE_JOB,
            &["short"],
            &[
                ("PUSHGATEWAY_URL", &gateway.url()),
                ("PUSHGATEWAY_JOB", &job),
                ("PUSHGATEWAY_TIMEOUT", text),
                ("PUSHGATEWAY_PUSH_INTERVAL", text),
            ],
        );
        assert_clean_exit(&run);
        let warnings = run.warnings();
        for variable in ["PUSHGATEWAY_TIMEOUT", "PUSHGATEWAY_PUSH_INTERVAL"] {
            assert!(
                warnings.iter().any(|w| w.contains(variable)),
                "{text}: {run:#?}"
            );
        }
        let scrape = gateway.scrape();
        let pushed = scrape.value(
            "promise_job_work_seconds_count",
            &[("job", &job), ("outcome", "ok")],
        );
        // "0" and "1ns" become the 10 ms floor: a loopback push fits in it on an idle machine,
        // but not always on a loaded one (2 cores compiling beside the test). Then the push
        // must have failed for that reason, and said so: never a panic, never silence.
        let floor = matches!(*text, "0" | "1ns");
        if floor && pushed.is_none() {
            assert!(
                warnings
                    .iter()
                    .any(|w| w.contains("no answer within the push deadline")),
                "{text}: {run:#?}"
            );
        } else {
            assert_eq!(pushed, Some(1.0), "{text}: {run:#?}");
        }
    }
}

#[test]
fn builder_extremes_are_bounded_and_flush_never_panics() {
    let Some(gateway) = Gateway::start("builder_extremes") else {
        return;
    };
    let run = run_job(
        PROMISE_JOB,
        &["builder-extremes"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "extremes"),
        ],
    );
    assert_clean_exit(&run);
    assert!(run.stdout.contains("flush=ok"), "{run:#?}");
    assert!(
        run.warnings()
            .iter()
            .any(|w| w.contains("above the maximum")),
        "{run:#?}"
    );
    assert!(
        run.warnings()
            .iter()
            .any(|w| w.contains("below the minimum")),
        "{run:#?}"
    );
    let scrape = gateway.scrape();
    assert_eq!(
        scrape.value(
            "promise_job_work_seconds_count",
            &[("job", "extremes"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
}

// 4. The sum never wraps.

#[test]
fn the_sum_saturates_at_two_to_the_64_nanoseconds() {
    let _ = pushtimer::Config::new().install();
    let most = 18_446_744_073.709_553; // (2^64 - 1) ns in seconds, as an f64
    let a = pushtimer::Summary::builder("promise_saturate_a")
        .register()
        .unwrap();
    a.observe_duration(Duration::MAX);
    a.observe(1.0).unwrap();
    let b = pushtimer::Summary::builder("promise_saturate_b")
        .register()
        .unwrap();
    b.observe(1e10).unwrap();
    b.observe(1e10).unwrap();
    let scrape = Scrape::parse(&pushtimer::render());
    for name in ["promise_saturate_a_seconds", "promise_saturate_b_seconds"] {
        assert_eq!(
            scrape.value(&format!("{name}_sum"), &[]),
            Some(most),
            "{name}"
        );
        assert_eq!(
            scrape.value(&format!("{name}_count"), &[]),
            Some(2.0),
            "{name}"
        );
    }
}

// 5. fork().

#[test]
fn a_forked_child_skips_its_final_push_at_once_with_one_line() {
    let Some(gateway) = Gateway::start("fork") else {
        return;
    };
    let run = run_job(
        PROMISE_JOB,
        &["fork"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "forking"),
            // A child that waited for a push thread would wait this long and say "no answer".
            ("PUSHGATEWAY_TIMEOUT", "20s"),
        ],
    );
    assert_clean_exit(&run);
    assert!(run.stdout.contains("child=0"), "{run:#?}");
    assert_eq!(run.stderr.matches("fork() of pid").count(), 1, "{run:#?}");
    assert!(!run.stderr.contains("no answer"), "{run:#?}");
    assert!(run.elapsed < Duration::from_secs(15), "{run:#?}");
    // The parent's two calls; the child's is not pushed by anyone.
    let scrape = gateway.scrape();
    assert_eq!(
        scrape.value(
            "promise_job_work_seconds_count",
            &[("job", "forking"), ("outcome", "ok")]
        ),
        Some(2.0)
    );
    assert_eq!(
        scrape.value(
            "promise_job_child_only_seconds_count",
            &[("job", "forking")]
        ),
        None
    );
}

// 6. Idle cost.

#[test]
fn an_idle_job_renders_nothing_however_many_series_it_has() {
    let Some(gateway) = Gateway::start("idle") else {
        return;
    };
    let run = run_job(
        PROMISE_JOB,
        &["idle", "20000"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "idle"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "10ms"),
            // 20,000 label sets of one metric: past the default limit of 2,000.
            ("PUSHTIMER_CARDINALITY_LIMIT", "20000"),
        ],
    );
    assert_clean_exit(&run);
    assert!(run.stdout.contains("idle_renders=0"), "{run:#?}");
    let scrape = gateway.scrape();
    assert_eq!(
        scrape.value(
            "promise_job_idle_seconds_count",
            &[("job", "idle"), ("series", "19999")]
        ),
        Some(1.0)
    );
}

// 7. and 8. Warnings reach a human, and the last one is honest.

#[test]
fn without_a_logger_warnings_go_to_stderr_and_say_the_metrics_were_lost() {
    let run = run_job(
        PROMISE_JOB,
        &["short"],
        &[
            ("PUSHGATEWAY_URL", &refused_url()),
            ("PROMISE_JOB_NO_LOGGER", "1"),
        ],
    );
    assert_clean_exit(&run);
    let warnings = run.warnings();
    assert!((1..=HANDFUL).contains(&warnings.len()), "{run:#?}");
    assert!(
        warnings
            .iter()
            .all(|w| w.starts_with("pushtimer: warning:")),
        "{run:#?}"
    );
    let last = warnings.last().copied().unwrap_or_default();
    assert!(last.contains("connection refused"), "{run:#?}");
    assert!(last.contains("were not delivered"), "{run:#?}");
    assert!(!run.stderr.contains("next successful push"), "{run:#?}");
}

// 9. An unreachable gateway costs about nothing at exit.

#[test]
fn a_gateway_that_never_answered_gets_one_quick_retry_at_exit() {
    // A fake: no real gateway hangs up on every request.
    let dropper = FakeGateway::start(Behaviour::HangUp {
        answer_first: false,
    });
    let run = run_job(
        PROMISE_JOB,
        &["short"],
        &[
            ("PUSHGATEWAY_URL", &dropper.url()),
            ("PUSHGATEWAY_TIMEOUT", "20s"),
        ],
    );
    assert_clean_exit(&run);
    assert!(
        (1..=2).contains(&dropper.connections()),
        "{} attempts",
        dropper.connections()
    );
    assert!(
        run.warnings()
            .iter()
            .any(|w| w.contains("were not delivered")),
        "{run:#?}"
    );
}

#[test]
fn a_gateway_that_answered_before_gets_retries_at_exit() {
    let dropper = FakeGateway::start(Behaviour::HangUp { answer_first: true });
    let run = run_job(
        PROMISE_JOB,
        &["flush"],
        &[
            ("PUSHGATEWAY_URL", &dropper.url()),
            ("PUSHGATEWAY_TIMEOUT", "1s"),
        ],
    );
    assert_clean_exit(&run);
    assert!(run.stdout.contains("flush=ok"), "{run:#?}");
    // The flush, then the final push: retried with backoff for the whole deadline.
    assert!(
        dropper.connections() >= 4,
        "{} attempts",
        dropper.connections()
    );
}

// 10. Silent merges and collisions.

#[test]
fn namesakes_are_warned_about_and_colliding_user_metrics_left_out() {
    let Some(gateway) = Gateway::start("collisions") else {
        return;
    };
    let run = run_job(
        PROMISE_JOB,
        &["collisions"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "collide"),
        ],
    );
    assert_clean_exit(&run);
    assert!(run.stdout.contains("flush=ok"), "{run:#?}");
    let warnings = run.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`promise_job::reader::load`")
                && w.contains("`promise_job::writer::load`")),
        "{run:#?}"
    );
    for name in [
        "promise_train_seconds_count",
        "pushtimer_rejected_observations_total",
    ] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(name) && w.contains("collides")),
            "{name}: {run:#?}"
        );
    }
    let scrape = gateway.scrape();
    let job = [("job", "collide")];
    let ok = [("job", "collide"), ("outcome", "ok")];
    assert_eq!(scrape.value("promise_train_seconds_count", &ok), Some(1.0));
    assert_eq!(scrape.value("load_seconds_count", &ok), Some(2.0));
    assert_eq!(scrape.value("promise_rows_total", &job), Some(5.0));
    assert_eq!(
        scrape.value("pushtimer_rejected_observations_total", &job),
        None
    );
}

// 11. The smaller ones.

#[test]
fn long_and_trickling_error_bodies_are_reported() {
    // Fakes: a real gateway answers short, complete bodies.
    let long: &'static str = Box::leak(format!("disk full: {}", "x".repeat(10_000)).into());
    for (behaviour, expected) in [
        (Behaviour::Status(500, long), "HTTP 500: disk full: xxx"),
        (
            Behaviour::Truncated {
                code: 500,
                body: "overloaded, retry later",
                sent: 10,
            },
            "HTTP 500: overloaded",
        ),
    ] {
        let fake = FakeGateway::start(behaviour);
        let run = run_job(
            PROMISE_JOB,
            &["short"],
            &[
                ("PUSHGATEWAY_URL", &fake.url()),
                ("PUSHGATEWAY_TIMEOUT", "1s"),
            ],
        );
        assert_clean_exit(&run);
        assert!(
            run.warnings().iter().any(|w| w.contains(expected)),
            "{expected}: {run:#?}"
        );
    }
}

#[test]
fn a_token_file_with_an_inner_line_break_is_named_at_start_up() {
    let dir = TempDir::new("inner_newline_token");
    let token = dir.write("token", "first-half\nsecond-half\n");
    let run = run_job(
        PROMISE_JOB,
        &["short"],
        &[
            ("PUSHGATEWAY_URL", &refused_url()),
            ("PUSHGATEWAY_BEARER_TOKEN_FILE", token.to_str().unwrap()),
        ],
    );
    assert_clean_exit(&run);
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run:#?}");
    assert!(
        warnings[0].contains("PUSHGATEWAY_BEARER_TOKEN_FILE"),
        "{run:#?}"
    );
    assert!(!output(&run).contains("half"), "{run:#?}");
}

#[test]
fn an_x509_v1_client_certificate_is_named_as_such() {
    let dir = TempDir::new("v1_client_cert");
    let key = dir.path().join("client.key");
    let csr = dir.path().join("client.csr");
    let cert = dir.path().join("client.crt");
    let openssl = |args: &[&str]| {
        std::process::Command::new("openssl")
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    // What `openssl x509 -req` makes without extensions: a v1 certificate.
    let made = openssl(&["genrsa", "-out", &path(&key), "2048"])
        && openssl(&[
            "req",
            "-new",
            "-key",
            &path(&key),
            "-subj",
            "/CN=job",
            "-out",
            &path(&csr),
        ])
        && openssl(&[
            "x509",
            "-req",
            "-in",
            &path(&csr),
            "-signkey",
            &path(&key),
            "-days",
            "2",
            "-out",
            &path(&cert),
        ]);
    if !made {
        skip(
            "an_x509_v1_client_certificate_is_named_as_such",
            "openssl is not installed",
            "apt-get install openssl",
        );
        return;
    }
    let run = run_job(
        PROMISE_JOB,
        &["short"],
        &[
            (
                "PUSHGATEWAY_URL",
                &format!("https://127.0.0.1:{}", free_port()),
            ),
            ("PUSHGATEWAY_CLIENT_CERT_FILE", &path(&cert)),
            ("PUSHGATEWAY_CLIENT_KEY_FILE", &path(&key)),
        ],
    );
    assert_clean_exit(&run);
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run:#?}");
    assert!(
        warnings[0].contains("PUSHGATEWAY_CLIENT_CERT_FILE"),
        "{run:#?}"
    );
    assert!(warnings[0].contains("X.509 v1"), "{run:#?}");
    assert!(!warnings[0].contains("is not the key"), "{run:#?}");
}

#[test]
fn an_empty_help_gets_the_same_default_sentence_as_a_timed_function() {
    let _ = pushtimer::Config::new().install();
    #[pushtimer::timed(name = "promise_help_timed", help = "")]
    fn undocumented() {}
    undocumented();
    pushtimer::Summary::builder("promise_help_hand")
        .help("")
        .register()
        .unwrap();
    let scrape = Scrape::parse(&pushtimer::render());
    assert_eq!(
        scrape.help["promise_help_timed_seconds"],
        "Wall-clock time of one call of `promises::undocumented`, in seconds."
    );
    assert_eq!(
        scrape.help["promise_help_hand_seconds"],
        "Wall-clock time of `promise_help_hand_seconds`, in seconds."
    );
}
