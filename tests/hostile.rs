//! What a hostile environment cannot do to a job: files named by a variable that block or
//! bloat (a FIFO, `/dev/zero`), values that are not UTF-8, a server that answers with a
//! redirect, and `flush()` after the final push or with one destination down. Each case runs
//! through a real child job and is judged by what its user sees: its exit code, its warnings,
//! what `flush()` told it, and what reached the server.
//!
//! The real Pushgateway serves every case it can; the redirect comes from the harness's fake,
//! since a real gateway never redirects a well-formed push, and the file cases need no server
//! (the destination is turned off before anything is sent, which a recording fake shows).
#![forbid(unsafe_code)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use pushtimer_tests::tls::{TempDir, path_str};
use pushtimer_tests::{
    Behaviour, FakeGateway, Gateway, assert_no_secret, assert_unharmed_with_one_warning, free_port,
    run_final_push, run_job, run_job_os,
};

const EXIT_JOB: &str = env!("CARGO_BIN_EXE_exit_job");
const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

/// A FIFO at `<dir>/<name>`, made with `mkfifo(1)` (this crate has no unsafe code).
fn fifo(dir: &TempDir, name: &str) -> PathBuf {
    let path = dir.path().join(name);
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo(1) runs");
    assert!(made.success(), "mkfifo {}", path.display());
    path
}

// --- 1. Files that would block or bloat the job -----------------------------------------

/// One file case: the variable at fault, the variables set, the path it names, and what that
/// path is.
struct Case<'a> {
    variable: &'a str,
    files: Vec<(&'a str, &'a str)>,
    path: &'a Path,
    kind: &'a str,
}

/// A CA, token or client-certificate variable naming a FIFO (whose `open` would wait for a
/// writer forever) or `/dev/zero` (which never ends): the first timed call returns at once,
/// the job ends with its own exit code (3), and pushtimer says exactly one thing, naming the
/// variable and the path. Before, the job hung on the FIFO until the harness's limit killed it,
/// or grew to a gigabyte on `/dev/zero`.
#[test]
fn a_fifo_or_an_endless_device_named_as_a_file_costs_one_warning_and_no_wait() {
    let dir = TempDir::new("hostile-files");
    let ca_fifo = fifo(&dir, "ca.pem");
    let token_fifo = fifo(&dir, "token");
    let cert_fifo = fifo(&dir, "client.pem");
    let zero = Path::new("/dev/zero");
    let fake = FakeGateway::start(Behaviour::Record);
    let gateway = fake.url();
    let remote_write = format!("{}/api/v1/write", fake.url());
    let key = dir.write("client.key", "not read: the certificate fails first");
    let cases = [
        Case {
            variable: "PUSHGATEWAY_CA_FILE",
            files: vec![("PUSHGATEWAY_CA_FILE", path_str(&ca_fifo))],
            path: &ca_fifo,
            kind: "a FIFO",
        },
        Case {
            variable: "PUSHGATEWAY_BEARER_TOKEN_FILE",
            files: vec![("PUSHGATEWAY_BEARER_TOKEN_FILE", path_str(&token_fifo))],
            path: &token_fifo,
            kind: "a FIFO",
        },
        Case {
            variable: "PUSHGATEWAY_BEARER_TOKEN_FILE",
            files: vec![("PUSHGATEWAY_BEARER_TOKEN_FILE", "/dev/zero")],
            path: zero,
            kind: "a device",
        },
        Case {
            variable: "PUSHGATEWAY_CLIENT_CERT_FILE",
            files: vec![
                ("PUSHGATEWAY_CLIENT_CERT_FILE", path_str(&cert_fifo)),
                ("PUSHGATEWAY_CLIENT_KEY_FILE", path_str(&key)),
            ],
            path: &cert_fifo,
            kind: "a FIFO",
        },
        Case {
            variable: "PUSHTIMER_REMOTE_WRITE_CA_FILE",
            files: vec![("PUSHTIMER_REMOTE_WRITE_CA_FILE", "/dev/zero")],
            path: zero,
            kind: "a device",
        },
    ];
    for case in cases {
        let needles = [case.variable, path_str(case.path), case.kind];
        let mut env = case.files;
        if case.variable.starts_with("PUSHTIMER_REMOTE_WRITE_") {
            // The gateway variables stay unset: only the remote-write endpoint is configured.
            env.push(("PUSHTIMER_REMOTE_WRITE_URL", &remote_write));
            env.push(("PUSHGATEWAY_PUSH_INTERVAL", "1h"));
            let run = run_job(EXIT_JOB, &["exit3", "5"], &env);
            assert_unharmed_with_one_warning(&run, 3, &needles);
        } else {
            let run = run_final_push(EXIT_JOB, &gateway, "hostile_files", "exit3", &env);
            assert_unharmed_with_one_warning(&run, 3, &needles);
        }
    }
    // Every destination was off: nothing reached the server.
    assert_eq!(fake.requests(), vec![], "nothing may be pushed");
}

// --- 2. Values that are not UTF-8 -----------------------------------------------------------

/// A value that is not UTF-8 is never dropped silently: each such variable gets one warning
/// naming it, never its value (here a password); the job is named after its own text (each bad
/// byte replaced by U+FFFD), not after the executable, and the warning says so.
#[test]
fn values_that_are_not_utf8_are_each_warned_about_once_without_the_value() {
    let Some(gateway) = Gateway::start("values_that_are_not_utf8") else {
        return;
    };
    let url = gateway.url();
    let run = run_job_os(
        PROMISE_JOB,
        &["short"],
        &[
            ("PUSHGATEWAY_URL", OsStr::new(&url)),
            ("PUSHGATEWAY_JOB", OsStr::from_bytes(b"etl-\xff")),
            (
                "PUSHGATEWAY_PASSWORD",
                OsStr::from_bytes(b"Hunter2-pw-\xfe"),
            ),
            ("PUSHTIMER_NAMESPACE", OsStr::from_bytes(b"ns\xff")),
            ("PUSHGATEWAY_PUSH_INTERVAL", OsStr::new("1h")),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 3, "{run:#?}");
    for variable in [
        "PUSHGATEWAY_JOB",
        "PUSHGATEWAY_PASSWORD",
        "PUSHTIMER_NAMESPACE",
    ] {
        let about: Vec<_> = warnings.iter().filter(|w| w.contains(variable)).collect();
        assert_eq!(about.len(), 1, "{variable}: {run:#?}");
        assert!(about[0].contains("not valid UTF-8"), "{variable}: {run:#?}");
    }
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("PUSHGATEWAY_JOB") && w.contains("\"etl-\u{fffd}\"")),
        "{run:#?}"
    );
    assert_no_secret(&run, "Hunter2-pw");
    let scrape = gateway.scrape();
    // The namespace was ignored (no prefix) and the job kept its own name.
    assert_eq!(
        scrape.value(
            "promise_job_work_seconds_count",
            &[("job", "etl-\u{fffd}"), ("outcome", "ok")]
        ),
        Some(1.0),
        "{scrape:#?}"
    );
    assert!(
        scrape
            .find("promise_job_work_seconds_count", &[("job", "promise_job")])
            .is_empty(),
        "{scrape:#?}"
    );
}

// --- 3. A redirect ----------------------------------------------------------------------------

/// A 3xx answer, from the gateway or from the remote-write endpoint, is not followed (it could
/// carry the credentials to another server): the warning names the status and the `Location`,
/// with the userinfo a URL may carry hidden, and says redirects are not followed; the address
/// it points to never hears from the job. A fake serves the redirect: a real Pushgateway never
/// answers a well-formed push with one.
#[test]
fn a_redirect_is_named_with_its_location_and_never_followed() {
    const SECRET: &str = "Sx-73-redirect-secret";
    const LOCATION_SECRET: &str = "Loc-secret-41";
    let elsewhere = FakeGateway::start(Behaviour::Record);
    let location =
        elsewhere
            .url()
            .replacen("http://", &format!("http://mover:{LOCATION_SECRET}@"), 1)
            + "/moved/here";
    let shown = elsewhere.url().replacen("http://", "http://***@", 1) + "/moved/here";
    for (code, remote) in [(307, false), (308, true), (301, false)] {
        let redirect = FakeGateway::start(Behaviour::Redirect {
            code,
            location: location.clone(),
        });
        let url = redirect
            .url()
            .replacen("http://", &format!("http://batch:{SECRET}@"), 1);
        let run = if remote {
            run_job(
                EXIT_JOB,
                &["exit3", "5"],
                &[
                    ("PUSHTIMER_REMOTE_WRITE_URL", &format!("{url}/api/v1/write")),
                    ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
                    ("PUSHGATEWAY_TIMEOUT", "2s"),
                ],
            )
        } else {
            run_final_push(EXIT_JOB, &url, "redirected", "exit3", &[])
        };
        assert_eq!(run.status.code(), Some(3), "{run:#?}");
        assert!(!run.stderr.contains("panicked"), "{run:#?}");
        let warnings = run.warnings();
        // The credentials travel over plain http (one warning), and the final push is
        // redirected (the other).
        assert_eq!(warnings.len(), 2, "{run:#?}");
        assert!(
            warnings.iter().any(|w| w.contains("clear text")),
            "{run:#?}"
        );
        let redirected: Vec<_> = warnings
            .iter()
            .filter(|w| w.contains(&format!("HTTP {code}")))
            .collect();
        assert_eq!(redirected.len(), 1, "{run:#?}");
        assert!(redirected[0].contains(&shown), "{run:#?}");
        assert!(redirected[0].contains("not followed"), "{run:#?}");
        assert_no_secret(&run, SECRET);
        assert_no_secret(&run, LOCATION_SECRET);
        assert!(
            !redirect.requests().is_empty(),
            "nothing was sent: {run:#?}"
        );
    }
    assert_eq!(elsewhere.requests(), vec![], "a redirect was followed");
}

// --- 4. flush() ---------------------------------------------------------------------------------

/// With the real gateway up and the remote-write endpoint down (a closed loopback port),
/// `flush()` says which destination failed, by its URL without credentials, and that the other
/// one took the push; the gateway holds the job's metrics.
#[test]
fn a_flush_names_the_destination_that_failed_and_the_one_that_took_it() {
    let Some(gateway) = Gateway::start("a_flush_names_the_destination_that_failed") else {
        return;
    };
    let dead = free_port();
    let remote_write = format!("http://writer:Rw-pw-5521@127.0.0.1:{dead}/api/v1/write");
    let run = run_job(
        PROMISE_JOB,
        &["flush"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "half_flushed"),
            ("PUSHTIMER_REMOTE_WRITE_URL", &remote_write),
            ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
            // The dead endpoint is retried until the deadline, at the flush and at exit.
            ("PUSHGATEWAY_TIMEOUT", "1s"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let expected = format!(
        "flush=err:not delivered to http://127.0.0.1:{dead}/api/v1/write: connection refused \
         (is the server running?); delivered to {}/metrics/job/half_flushed",
        gateway.url()
    );
    assert!(run.stdout.contains(&expected), "{expected}\n{run:#?}");
    assert_no_secret(&run, "Rw-pw-5521");
    // The flush's push and the final one (work(2) came after the flush) reached the gateway.
    assert_eq!(
        gateway.scrape().value(
            "promise_job_work_seconds_count",
            &[("job", "half_flushed"), ("outcome", "ok")]
        ),
        Some(2.0)
    );
}

/// `flush()` from the job's own `atexit` handler, which runs after pushtimer's final push:
/// it returns an error saying the final push already ran and nothing was sent, instead of an
/// `Ok` for a push that never happened. The final push itself reached the real gateway.
#[test]
fn a_flush_after_the_final_push_says_nothing_was_sent() {
    let Some(gateway) = Gateway::start("a_flush_after_the_final_push") else {
        return;
    };
    let run = run_job(
        PROMISE_JOB,
        &["flush-after-exit"],
        &[
            ("PROMISE_JOB_GATEWAY", &gateway.url()),
            ("PUSHGATEWAY_JOB", "flushed_late"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    assert!(
        run.stdout.contains(
            "after-exit flush=err:the final push already ran (the process is exiting); nothing sent"
        ),
        "{run:#?}"
    );
    assert_eq!(
        gateway.scrape().value(
            "promise_job_work_seconds_count",
            &[("job", "flushed_late"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
}
