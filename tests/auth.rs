//! Credentials the job sends: basic auth (from the environment or the URL's userinfo, over
//! TLS or, with a warning, plain HTTP) and a bearer token file. A secret is never printed, and
//! a refused or unreadable credential costs the job exactly one clear warning.
//!
//! Basic auth runs against a real Pushgateway behind `--web.config.file`; the bearer token,
//! which the Pushgateway does not check, is seen on the raw requests of a recording fake.
#![forbid(unsafe_code)]

use pushtimer_tests::tls::{PASSWORD, Pki, SecureGateway, Security, TempDir, USER, path_str};
use pushtimer_tests::{
    Behaviour, FakeGateway, assert_clean, assert_exit_job_complete, assert_no_secret,
    assert_nothing_for, assert_unharmed_with_one_warning, run_final_push,
};

const JOB: &str = env!("CARGO_BIN_EXE_exit_job");

/// A password the gateway does not accept, just as secret.
const WRONG_PASSWORD: &str = "Wr0ng-Xq3v-Lm8t-sesame";

// --- Basic auth ---------------------------------------------------------------------------

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
    let run = run_final_push(
        JOB,
        &gateway.url(),
        "basic_env",
        "return",
        &[
            ("PUSHGATEWAY_CA_FILE", path_str(&pki.ca)),
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
    let run = run_final_push(
        JOB,
        &gateway.url_with_userinfo(USER, PASSWORD),
        "basic_url",
        "return",
        &[("PUSHGATEWAY_CA_FILE", path_str(&pki.ca))],
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
    let run = run_final_push(
        JOB,
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
    let ca = ("PUSHGATEWAY_CA_FILE", path_str(&pki.ca));
    let from_env = run_final_push(
        JOB,
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

    let from_url = run_final_push(
        JOB,
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

// --- Bearer token -------------------------------------------------------------------------

#[test]
fn a_bearer_token_file_is_sent_and_never_printed() {
    const TOKEN: &str = "tok-5Jd8-Rw2p-bearer";
    let fake = FakeGateway::start(Behaviour::Record);
    let dir = TempDir::new("token");
    let token_file = dir.write("token", format!("  {TOKEN}\n"));
    let run = run_final_push(
        JOB,
        &fake.url(),
        "bearer",
        "return",
        &[("PUSHGATEWAY_BEARER_TOKEN_FILE", path_str(&token_file))],
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
        // The job's group, or a record of the run below it (see the README's layout).
        let group = request.path.split("/pushtimer_record/").next();
        assert_eq!(group, Some("/metrics/job/bearer"), "{request:#?}");
    }
}

#[test]
fn a_missing_token_file_is_named_at_start_up() {
    let fake = FakeGateway::start(Behaviour::Record);
    let dir = TempDir::new("token");
    let missing = dir.path().join("missing-token");
    let run = run_final_push(
        JOB,
        &fake.url(),
        "token_missing",
        "exit3",
        &[("PUSHGATEWAY_BEARER_TOKEN_FILE", path_str(&missing))],
    );
    assert_unharmed_with_one_warning(
        &run,
        3,
        &["PUSHGATEWAY_BEARER_TOKEN_FILE", path_str(&missing)],
    );
    assert_eq!(fake.requests(), vec![], "nothing may be pushed");
}
