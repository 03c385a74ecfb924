//! How the job reaches the Pushgateway: TLS with a private CA, mutual TLS, basic auth, a
//! bearer token, grouping labels, PUT/POST/DELETE and gzip.
//!
//! Each test runs `exit_job` as a child process against a real Pushgateway it starts itself
//! on loopback (behind `--web.config.file` for TLS and basic auth, with certificates made in
//! the test), and asserts on what the gateway then holds. The push interval is an hour, so
//! what reaches the gateway can only come from the final push at exit. What a real gateway
//! cannot show (the raw headers and body of a request) comes from a recording fake.
//! Transport failures must cost the job exactly one clear warning and nothing else.
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::Path;

use pushtimer_tests::tls::{Pki, SecureGateway, Security, ServerCert, TempDir};
use pushtimer_tests::{
    Behaviour, FakeGateway, Gateway, JobRun, Scrape, assert_exit_job_complete, http_request,
    run_job,
};

const JOB: &str = env!("CARGO_BIN_EXE_exit_job");

/// The basic-auth user of the gateways that want one.
const USER: &str = "batch";
/// Its password: distinctive, so that finding it in the job's output is meaningful.
const PASSWORD: &str = "Pw-7Qz4-Kx9w-sesame";
/// A password the gateway does not accept, just as secret.
const WRONG_PASSWORD: &str = "Wr0ng-Xq3v-Lm8t-sesame";

/// Runs `exit_job <how> 5` against `url` as `job`, final push only, 2 s deadline.
fn run(url: &str, job: &str, how: &str, extra: &[(&str, &str)]) -> JobRun {
    let mut env = vec![
        ("PUSHGATEWAY_URL", url),
        ("PUSHGATEWAY_JOB", job),
        ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
        ("PUSHGATEWAY_TIMEOUT", "2s"),
    ];
    env.extend_from_slice(extra);
    run_job(JOB, &[how, "5"], &env)
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// The job pushed without a word and exited 0.
fn assert_clean(run: &JobRun) {
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

/// The job kept its exit code, did not panic, and pushtimer said exactly one thing: a warning
/// containing every needle (a lowercase needle is matched against the lowercased warning).
fn assert_unharmed_with_one_warning(run: &JobRun, code: i32, needles: &[&str]) {
    assert_eq!(run.status.code(), Some(code), "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "exactly one warning expected: {run:#?}");
    let lowercase = warnings[0].to_lowercase();
    for needle in needles {
        assert!(
            warnings[0].contains(needle) || lowercase.contains(needle),
            "{needle:?} missing in {:?}",
            warnings[0]
        );
    }
}

/// Neither the job's stdout nor its stderr shows `secret`.
fn assert_no_secret(run: &JobRun, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the secret {secret:?} leaked into the job's output: {run:#?}"
    );
}

/// The gateway holds no series at all for `job`.
fn assert_nothing_for(scrape: &Scrape, job: &str) {
    let held: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.labels.get("job").map(String::as_str) == Some(job))
        .collect();
    assert!(held.is_empty(), "the gateway holds {held:#?}");
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a gzip body holding UTF-8 text");
    text
}

// --- The harness itself --------------------------------------------------------------------

/// Not a test of pushtimer: the secure gateways and the harness's client work (so a failure
/// below is pushtimer's, not the certificates' or the web config's).
#[test]
fn the_harness_reaches_every_kind_of_secure_gateway() {
    let pki = Pki::generate();
    let setups = [
        Security::default(),
        Security {
            require_client_cert: true,
            ..Security::default()
        },
        Security {
            basic_auth: Some((USER, PASSWORD)),
            ..Security::default()
        },
        Security {
            tls: false,
            basic_auth: Some((USER, PASSWORD)),
            ..Security::default()
        },
        Security {
            server_cert: ServerCert::Expired,
            ..Security::default()
        },
        Security {
            server_cert: ServerCert::WrongHost,
            ..Security::default()
        },
    ];
    for security in setups {
        let Some(gateway) = SecureGateway::start(
            "the_harness_reaches_every_kind_of_secure_gateway",
            &pki,
            security,
        ) else {
            return;
        };
        let (code, body) = gateway
            .request(
                "PUT",
                "/metrics/job/harness",
                Some("# TYPE harness_metric gauge\nharness_metric 7\n"),
            )
            .unwrap_or_else(|e| panic!("{security:?}: {e}"));
        assert_eq!(code, 200, "{security:?}: {body}");
        let scrape = gateway.scrape();
        assert_eq!(
            scrape.value("harness_metric", &[("job", "harness")]),
            Some(7.0),
            "{security:?}"
        );
        if security.basic_auth.is_some() && !security.tls {
            // Without the credentials the gateway refuses.
            let refused = http_request("GET", &format!("{}/metrics", gateway.url()), None);
            assert_eq!(refused.map(|(code, _)| code), Some(401), "{security:?}");
        }
    }
}

// --- The data arrives ----------------------------------------------------------------------

#[test]
fn a_private_ca_file_is_trusted() {
    let pki = Pki::generate();
    let Some(gateway) =
        SecureGateway::start("a_private_ca_file_is_trusted", &pki, Security::default())
    else {
        return;
    };
    let ca = [("PUSHGATEWAY_CA_FILE", path(&pki.ca))];
    let run_ip = run(&gateway.url(), "tls_ip", "return", &ca);
    assert_clean(&run_ip);
    let run_name = run(&gateway.localhost_url(), "tls_localhost", "exit3", &ca);
    assert_eq!(run_name.status.code(), Some(3), "{run_name:#?}");
    assert!(run_name.warnings().is_empty(), "{run_name:#?}");
    let scrape = gateway.scrape();
    assert_exit_job_complete(&scrape, "tls_ip", &[]);
    assert_exit_job_complete(&scrape, "tls_localhost", &[]);
}

#[test]
fn basic_auth_from_the_environment() {
    let pki = Pki::generate();
    let security = Security {
        basic_auth: Some((USER, PASSWORD)),
        ..Security::default()
    };
    let Some(gateway) = SecureGateway::start("basic_auth_from_the_environment", &pki, security)
    else {
        return;
    };
    let run = run(
        &gateway.url(),
        "basic_env",
        "return",
        &[
            ("PUSHGATEWAY_CA_FILE", path(&pki.ca)),
            ("PUSHGATEWAY_USERNAME", USER),
            ("PUSHGATEWAY_PASSWORD", PASSWORD),
        ],
    );
    assert_clean(&run);
    assert_no_secret(&run, PASSWORD);
    assert_exit_job_complete(&gateway.scrape(), "basic_env", &[]);
}

#[test]
fn basic_auth_from_url_userinfo() {
    let pki = Pki::generate();
    let security = Security {
        basic_auth: Some((USER, PASSWORD)),
        ..Security::default()
    };
    let Some(gateway) = SecureGateway::start("basic_auth_from_url_userinfo", &pki, security) else {
        return;
    };
    let run = run(
        &gateway.url_with_userinfo(USER, PASSWORD),
        "basic_url",
        "return",
        &[("PUSHGATEWAY_CA_FILE", path(&pki.ca))],
    );
    assert_clean(&run);
    assert_no_secret(&run, PASSWORD);
    assert_exit_job_complete(&gateway.scrape(), "basic_url", &[]);
}

#[test]
fn basic_auth_over_plain_http_works_with_a_clear_text_warning() {
    let pki = Pki::generate();
    let security = Security {
        tls: false,
        basic_auth: Some((USER, PASSWORD)),
        ..Security::default()
    };
    let Some(gateway) = SecureGateway::start(
        "basic_auth_over_plain_http_works_with_a_clear_text_warning",
        &pki,
        security,
    ) else {
        return;
    };
    assert!(gateway.url().starts_with("http://"));
    let run = run(
        &gateway.url(),
        "basic_plain",
        "return",
        &[
            ("PUSHGATEWAY_USERNAME", USER),
            ("PUSHGATEWAY_PASSWORD", PASSWORD),
        ],
    );
    assert_unharmed_with_one_warning(&run, 0, &["clear text"]);
    assert_no_secret(&run, PASSWORD);
    assert_exit_job_complete(&gateway.scrape(), "basic_plain", &[]);
}

#[test]
fn mutual_tls_with_a_client_certificate() {
    let pki = Pki::generate();
    let security = Security {
        require_client_cert: true,
        ..Security::default()
    };
    let Some(gateway) =
        SecureGateway::start("mutual_tls_with_a_client_certificate", &pki, security)
    else {
        return;
    };
    let run = run(
        &gateway.url(),
        "mtls_pkcs8",
        "return",
        &[
            ("PUSHGATEWAY_CA_FILE", path(&pki.ca)),
            ("PUSHGATEWAY_CLIENT_CERT_FILE", path(&pki.client.cert)),
            ("PUSHGATEWAY_CLIENT_KEY_FILE", path(&pki.client.key)),
        ],
    );
    assert_clean(&run);
    assert_exit_job_complete(&gateway.scrape(), "mtls_pkcs8", &[]);
}

#[test]
fn mutual_tls_with_sec1_and_pkcs1_keys() {
    let pki = Pki::generate();
    let security = Security {
        require_client_cert: true,
        ..Security::default()
    };
    let Some(gateway) = SecureGateway::start("mutual_tls_with_sec1_and_pkcs1_keys", &pki, security)
    else {
        return;
    };
    for (job, files) in [
        ("mtls_sec1", &pki.client_sec1),
        ("mtls_rsa_pkcs1", &pki.client_rsa_pkcs1),
    ] {
        let key = Pki::read(&files.key);
        assert!(
            key.starts_with("-----BEGIN EC PRIVATE KEY-----")
                || key.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
            "{key}"
        );
        let run = run(
            &gateway.url(),
            job,
            "return",
            &[
                ("PUSHGATEWAY_CA_FILE", path(&pki.ca)),
                ("PUSHGATEWAY_CLIENT_CERT_FILE", path(&files.cert)),
                ("PUSHGATEWAY_CLIENT_KEY_FILE", path(&files.key)),
            ],
        );
        assert_clean(&run);
        assert_exit_job_complete(&gateway.scrape(), job, &[]);
    }
}

// --- TLS failures at push time -------------------------------------------------------------

#[test]
fn without_a_ca_file_a_private_ca_is_not_trusted() {
    let pki = Pki::generate();
    let Some(gateway) = SecureGateway::start(
        "without_a_ca_file_a_private_ca_is_not_trusted",
        &pki,
        Security::default(),
    ) else {
        return;
    };
    let run = run(&gateway.url(), "no_ca", "exit3", &[]);
    assert_unharmed_with_one_warning(&run, 3, &["tls", "unknown issuer"]);
    assert_nothing_for(&gateway.scrape(), "no_ca");
}

#[test]
fn the_wrong_ca_is_not_trusted() {
    let pki = Pki::generate();
    let Some(gateway) =
        SecureGateway::start("the_wrong_ca_is_not_trusted", &pki, Security::default())
    else {
        return;
    };
    let run = run(
        &gateway.url(),
        "wrong_ca",
        "return",
        &[("PUSHGATEWAY_CA_FILE", path(&pki.other_ca))],
    );
    assert_unharmed_with_one_warning(&run, 0, &["tls", "unknown issuer"]);
    assert_nothing_for(&gateway.scrape(), "wrong_ca");
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let pki = Pki::generate();
    let security = Security {
        server_cert: ServerCert::WrongHost,
        ..Security::default()
    };
    let Some(gateway) =
        SecureGateway::start("a_certificate_for_another_host_is_refused", &pki, security)
    else {
        return;
    };
    let run = run(
        &gateway.url(),
        "wrong_host",
        "return",
        &[("PUSHGATEWAY_CA_FILE", path(&pki.ca))],
    );
    assert_unharmed_with_one_warning(&run, 0, &["tls", "not valid for"]);
    assert_nothing_for(&gateway.scrape(), "wrong_host");
}

#[test]
fn an_expired_certificate_is_refused() {
    let pki = Pki::generate();
    let security = Security {
        server_cert: ServerCert::Expired,
        ..Security::default()
    };
    let Some(gateway) = SecureGateway::start("an_expired_certificate_is_refused", &pki, security)
    else {
        return;
    };
    let run = run(
        &gateway.url(),
        "expired",
        "exit3",
        &[("PUSHGATEWAY_CA_FILE", path(&pki.ca))],
    );
    assert_unharmed_with_one_warning(&run, 3, &["tls", "expired"]);
    assert_nothing_for(&gateway.scrape(), "expired");
}

#[test]
fn mutual_tls_without_a_client_certificate_is_refused() {
    let pki = Pki::generate();
    let security = Security {
        require_client_cert: true,
        ..Security::default()
    };
    let Some(gateway) = SecureGateway::start(
        "mutual_tls_without_a_client_certificate_is_refused",
        &pki,
        security,
    ) else {
        return;
    };
    let run = run(
        &gateway.url(),
        "mtls_no_cert",
        "return",
        &[("PUSHGATEWAY_CA_FILE", path(&pki.ca))],
    );
    assert_unharmed_with_one_warning(&run, 0, &["tls"]);
    assert_nothing_for(&gateway.scrape(), "mtls_no_cert");
}

// --- Credentials refused -------------------------------------------------------------------

#[test]
fn a_wrong_password_is_a_401_and_never_printed() {
    let pki = Pki::generate();
    let security = Security {
        basic_auth: Some((USER, PASSWORD)),
        ..Security::default()
    };
    let Some(gateway) = SecureGateway::start(
        "a_wrong_password_is_a_401_and_never_printed",
        &pki,
        security,
    ) else {
        return;
    };
    let ca = ("PUSHGATEWAY_CA_FILE", path(&pki.ca));
    let from_env = run(
        &gateway.url(),
        "wrong_pw_env",
        "exit3",
        &[
            ca,
            ("PUSHGATEWAY_USERNAME", USER),
            ("PUSHGATEWAY_PASSWORD", WRONG_PASSWORD),
        ],
    );
    assert_unharmed_with_one_warning(&from_env, 3, &["HTTP 401"]);
    assert_no_secret(&from_env, WRONG_PASSWORD);

    let from_url = run(
        &gateway.url_with_userinfo(USER, WRONG_PASSWORD),
        "wrong_pw_url",
        "return",
        &[ca],
    );
    assert_unharmed_with_one_warning(&from_url, 0, &["HTTP 401"]);
    assert_no_secret(&from_url, WRONG_PASSWORD);

    let scrape = gateway.scrape();
    assert_nothing_for(&scrape, "wrong_pw_env");
    assert_nothing_for(&scrape, "wrong_pw_url");
}

// --- Unusable files: named once at start-up, nothing pushed --------------------------------

#[test]
fn unusable_ca_files_are_named_at_start_up() {
    let pki = Pki::generate();
    let Some(gateway) = SecureGateway::start(
        "unusable_ca_files_are_named_at_start_up",
        &pki,
        Security::default(),
    ) else {
        return;
    };
    let missing = pki.dir.path().join("missing-ca.pem");
    for (job, file) in [
        ("ca_missing", missing.as_path()),
        ("ca_garbage", pki.garbage.as_path()),
        ("ca_key_only", pki.client.key.as_path()),
    ] {
        let run = run(
            &gateway.url(),
            job,
            "exit3",
            &[("PUSHGATEWAY_CA_FILE", path(file))],
        );
        assert_unharmed_with_one_warning(&run, 3, &["PUSHGATEWAY_CA_FILE", path(file)]);
        assert_nothing_for(&gateway.scrape(), job);
    }
}

#[test]
fn unusable_client_files_are_named_at_start_up() {
    let pki = Pki::generate();
    let security = Security {
        require_client_cert: true,
        ..Security::default()
    };
    let Some(gateway) = SecureGateway::start(
        "unusable_client_files_are_named_at_start_up",
        &pki,
        security,
    ) else {
        return;
    };
    let missing = pki.dir.path().join("missing-client.key");
    let cases = [
        // A key that does not belong to the certificate: either file may be named.
        (
            "client_key_mismatch",
            &pki.client.cert,
            &pki.stray_key,
            "PUSHGATEWAY_CLIENT_",
        ),
        (
            "client_key_missing",
            &pki.client.cert,
            &missing,
            "PUSHGATEWAY_CLIENT_KEY_FILE",
        ),
        (
            "client_cert_garbage",
            &pki.garbage,
            &pki.client.key,
            "PUSHGATEWAY_CLIENT_CERT_FILE",
        ),
    ];
    for (job, cert, key, variable) in cases {
        let run = run(
            &gateway.url(),
            job,
            "return",
            &[
                ("PUSHGATEWAY_CA_FILE", path(&pki.ca)),
                ("PUSHGATEWAY_CLIENT_CERT_FILE", path(cert)),
                ("PUSHGATEWAY_CLIENT_KEY_FILE", path(key)),
            ],
        );
        assert_unharmed_with_one_warning(&run, 0, &[variable]);
        let warning = run.warnings()[0];
        assert!(
            warning.contains(path(cert)) || warning.contains(path(key)),
            "{job}: the path is not named in {warning:?}"
        );
        assert_nothing_for(&gateway.scrape(), job);
    }
}

#[test]
fn a_missing_token_file_is_named_at_start_up() {
    let fake = FakeGateway::start(Behaviour::Record);
    let dir = TempDir::new("token");
    let missing = dir.path().join("missing-token");
    let run = run(
        &fake.url(),
        "token_missing",
        "exit3",
        &[("PUSHGATEWAY_BEARER_TOKEN_FILE", path(&missing))],
    );
    assert_unharmed_with_one_warning(&run, 3, &["PUSHGATEWAY_BEARER_TOKEN_FILE", path(&missing)]);
    assert_eq!(fake.requests(), vec![], "nothing may be pushed");
}

// --- Grouping and methods against the real gateway -----------------------------------------

#[test]
fn awkward_grouping_values_round_trip() {
    let Some(gateway) = Gateway::start("awkward_grouping_values_round_trip") else {
        return;
    };
    let run = run(
        &gateway.url(),
        "grouping",
        "return",
        &[(
            "PUSHGATEWAY_GROUPING",
            "slash=a/b,space=with space,plus=x+y,empty=,umlaut=grüße",
        )],
    );
    assert_clean(&run);
    let grouping = [
        ("slash", "a/b"),
        ("space", "with space"),
        ("plus", "x+y"),
        ("empty", ""),
        ("umlaut", "grüße"),
    ];
    let scrape = gateway.scrape();
    assert_exit_job_complete(&scrape, "grouping", &grouping);
    // Exactly these labels, none mangled or extra.
    let work = scrape.find("exit_job_work_seconds_count", &[("job", "grouping")]);
    assert_eq!(work.len(), 1, "{work:#?}");
    let mut expected: Vec<(&str, &str)> = grouping.to_vec();
    expected.extend([("job", "grouping"), ("instance", ""), ("stage", "work")]);
    expected.sort();
    let actual: Vec<(&str, &str)> = work[0]
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(actual, expected);
}

/// Puts a gauge `other_metric 42` into the group `job` + `instance`.
fn put_other_metric(gateway: &Gateway, job: &str, instance: &str) {
    let (code, body) = http_request(
        "PUT",
        &format!("{}/metrics/job/{job}/instance/{instance}", gateway.url()),
        Some("# TYPE other_metric gauge\nother_metric 42\n"),
    )
    .expect("gateway reachable");
    assert_eq!(code, 200, "{body}");
}

#[test]
fn post_keeps_other_metrics_of_the_group_and_put_replaces_them() {
    let Some(gateway) =
        Gateway::start("post_keeps_other_metrics_of_the_group_and_put_replaces_them")
    else {
        return;
    };
    let grouping = [("instance", "worker-3")];
    for (job, method, survives) in [
        ("method_post", Some("post"), true),
        ("method_put", Some("put"), false),
        ("method_default", None, false),
    ] {
        put_other_metric(&gateway, job, "worker-3");
        let mut env = vec![("PUSHGATEWAY_GROUPING", "instance=worker-3")];
        if let Some(method) = method {
            env.push(("PUSHGATEWAY_METHOD", method));
        }
        let run = run(&gateway.url(), job, "return", &env);
        assert_clean(&run);
        let scrape = gateway.scrape();
        assert_exit_job_complete(&scrape, job, &grouping);
        let other = scrape.value("other_metric", &[("job", job), ("instance", "worker-3")]);
        assert_eq!(other, survives.then_some(42.0), "{job}");
    }
}

#[test]
fn delete_on_exit_removes_the_group() {
    let Some(gateway) = Gateway::start("delete_on_exit_removes_the_group") else {
        return;
    };
    put_other_metric(&gateway, "delete_me", "worker-3");
    put_other_metric(&gateway, "delete_me", "worker-4");
    let run = run(
        &gateway.url(),
        "delete_me",
        "return",
        &[
            ("PUSHGATEWAY_GROUPING", "instance=worker-3"),
            ("PUSHGATEWAY_DELETE_ON_EXIT", "true"),
        ],
    );
    assert_clean(&run);
    let scrape = gateway.scrape();
    let group = [("job", "delete_me"), ("instance", "worker-3")];
    let held: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| {
            group
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(held.is_empty(), "the group is still there: {held:#?}");
    // Only that group: the job's other group stays.
    assert_eq!(
        scrape.value(
            "other_metric",
            &[("job", "delete_me"), ("instance", "worker-4")]
        ),
        Some(42.0)
    );
}

// --- Headers and bodies, seen by a recording fake ------------------------------------------

#[test]
fn a_bearer_token_file_is_sent_and_never_printed() {
    const TOKEN: &str = "tok-5Jd8-Rw2p-bearer";
    let fake = FakeGateway::start(Behaviour::Record);
    let dir = TempDir::new("token");
    let token_file = dir.write("token", format!("  {TOKEN}\n"));
    let run = run(
        &fake.url(),
        "bearer",
        "return",
        &[("PUSHGATEWAY_BEARER_TOKEN_FILE", path(&token_file))],
    );
    // The fake speaks plain HTTP: the token travels in clear text, and the job says so once.
    assert_unharmed_with_one_warning(&run, 0, &["clear text"]);
    assert_no_secret(&run, TOKEN);
    let requests = fake.requests();
    assert!(!requests.is_empty(), "nothing was pushed: {run:#?}");
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{request:#?}"
        );
        assert_eq!(request.path, "/metrics/job/bearer", "{request:#?}");
    }
}

#[test]
fn large_bodies_are_gzipped_small_ones_are_not() {
    let fake = FakeGateway::start(Behaviour::Record);
    let long = "v".repeat(2_000);
    let labels = format!("note={long}");
    let run_large = run(
        &fake.url(),
        "large",
        "return",
        &[("PUSHTIMER_LABELS", &labels)],
    );
    assert_clean(&run_large);
    let requests = fake.requests();
    let [request] = requests.as_slice() else {
        panic!("one push expected: {requests:#?}");
    };
    assert_eq!(request.method, "PUT");
    assert_eq!(
        request.header("content-encoding"),
        Some("gzip"),
        "{request:#?}"
    );
    let text = gunzip(&request.body);
    assert!(text.len() > 1024, "{text}");
    assert!(text.contains("exit_job_work_seconds_count"), "{text}");
    let scrape = Scrape::parse(&text);
    assert_eq!(
        scrape.value(
            "exit_job_work_seconds_count",
            &[("stage", "work"), ("note", &long)]
        ),
        Some(5.0),
        "{text}"
    );

    let fake = FakeGateway::start(Behaviour::Record);
    let run_small = run(&fake.url(), "small", "return", &[]);
    assert_clean(&run_small);
    let requests = fake.requests();
    let [request] = requests.as_slice() else {
        panic!("one push expected: {requests:#?}");
    };
    let gzipped = request.header("content-encoding") == Some("gzip");
    let text = if gzipped {
        gunzip(&request.body)
    } else {
        String::from_utf8(request.body.clone()).expect("a text body")
    };
    assert!(text.contains("exit_job_work_seconds_count"), "{text}");
    if text.len() <= 1024 {
        assert!(!gzipped, "a {} byte body was gzipped", text.len());
    }
}

#[test]
fn delete_on_exit_sends_no_body_and_no_gzip() {
    let fake = FakeGateway::start(Behaviour::Record);
    let labels = format!("note={}", "v".repeat(2_000));
    let run = run(
        &fake.url(),
        "delete_fake",
        "return",
        &[
            ("PUSHTIMER_LABELS", &labels),
            ("PUSHGATEWAY_GROUPING", "instance=worker-3"),
            ("PUSHGATEWAY_DELETE_ON_EXIT", "true"),
        ],
    );
    assert_clean(&run);
    let requests = fake.requests();
    let [request] = requests.as_slice() else {
        panic!("exactly the DELETE expected: {requests:#?}");
    };
    assert_eq!(request.method, "DELETE", "{request:#?}");
    assert_eq!(
        request.path, "/metrics/job/delete_fake/instance/worker-3",
        "{request:#?}"
    );
    assert_eq!(request.header("content-encoding"), None, "{request:#?}");
    assert!(request.body.is_empty(), "{request:#?}");
}
