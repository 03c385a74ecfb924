//! TLS and mutual TLS between the job and a real Pushgateway behind `--web.config.file`, with
//! a private CA and certificates made in the test: what must be trusted is, and what must be
//! refused (no or the wrong CA, a certificate for another host or expired, no client
//! certificate, unusable files) costs the job exactly one clear warning and pushes nothing.
//!
//! Each test runs `exit_job` as a child process with an hour's push interval, so what reaches
//! the gateway can only come from the final push at exit.
#![forbid(unsafe_code)]

use std::path::Path;

use pushtimer_tests::tls::{PASSWORD, Pki, SecureGateway, Security, ServerCert, USER, path_str};
use pushtimer_tests::{
    assert_clean, assert_exit_job_complete, assert_nothing_for, assert_unharmed_with_one_warning,
    http_request, run_final_push,
};

const JOB: &str = env!("CARGO_BIN_EXE_exit_job");

// --- The harness itself -------------------------------------------------------------------

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

// --- The data arrives ---------------------------------------------------------------------

#[test]
fn a_private_ca_file_is_trusted() {
    let pki = Pki::generate();
    let Some(gateway) =
        SecureGateway::start("a_private_ca_file_is_trusted", &pki, Security::default())
    else {
        return;
    };
    let ca = [("PUSHGATEWAY_CA_FILE", path_str(&pki.ca))];
    let run_ip = run_final_push(JOB, &gateway.url(), "tls_ip", "return", &ca);
    assert_clean(&run_ip);
    let run_name = run_final_push(JOB, &gateway.localhost_url(), "tls_localhost", "exit3", &ca);
    assert_eq!(run_name.status.code(), Some(3), "{run_name:#?}");
    assert!(run_name.warnings().is_empty(), "{run_name:#?}");
    let scrape = gateway.scrape();
    assert_exit_job_complete(&scrape, "tls_ip", &[]);
    assert_exit_job_complete(&scrape, "tls_localhost", &[]);
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
    let run = run_final_push(
        JOB,
        &gateway.url(),
        "mtls_pkcs8",
        "return",
        &[
            ("PUSHGATEWAY_CA_FILE", path_str(&pki.ca)),
            ("PUSHGATEWAY_CLIENT_CERT_FILE", path_str(&pki.client.cert)),
            ("PUSHGATEWAY_CLIENT_KEY_FILE", path_str(&pki.client.key)),
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
        let run = run_final_push(
            JOB,
            &gateway.url(),
            job,
            "return",
            &[
                ("PUSHGATEWAY_CA_FILE", path_str(&pki.ca)),
                ("PUSHGATEWAY_CLIENT_CERT_FILE", path_str(&files.cert)),
                ("PUSHGATEWAY_CLIENT_KEY_FILE", path_str(&files.key)),
            ],
        );
        assert_clean(&run);
        assert_exit_job_complete(&gateway.scrape(), job, &[]);
    }
}

// --- TLS failures at push time ------------------------------------------------------------

/// A gateway set up with `security` refuses the job's final push over TLS: the job (`how`:
/// `exit3` or `return`) keeps its exit code, logs exactly one warning holding `needles`, and
/// the gateway holds nothing for `job`. `ca` picks the CA file the job is given, if any.
fn assert_push_refused(
    test: &str,
    security: Security<'_>,
    ca: impl Fn(&Pki) -> Option<&Path>,
    job: &str,
    how: &str,
    needles: &[&str],
) {
    let pki = Pki::generate();
    let Some(gateway) = SecureGateway::start(test, &pki, security) else {
        return;
    };
    let env: Vec<_> = ca(&pki)
        .map(|file| ("PUSHGATEWAY_CA_FILE", path_str(file)))
        .into_iter()
        .collect();
    let run = run_final_push(JOB, &gateway.url(), job, how, &env);
    let code = if how == "exit3" { 3 } else { 0 };
    assert_unharmed_with_one_warning(&run, code, needles);
    assert_nothing_for(&gateway.scrape(), job);
}

#[test]
fn without_a_ca_file_a_private_ca_is_not_trusted() {
    assert_push_refused(
        "without_a_ca_file_a_private_ca_is_not_trusted",
        Security::default(),
        |_| None,
        "no_ca",
        "exit3",
        &["tls", "unknown issuer"],
    );
}

#[test]
fn the_wrong_ca_is_not_trusted() {
    assert_push_refused(
        "the_wrong_ca_is_not_trusted",
        Security::default(),
        |pki| Some(&pki.other_ca),
        "wrong_ca",
        "return",
        &["tls", "unknown issuer"],
    );
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let security = Security {
        server_cert: ServerCert::WrongHost,
        ..Security::default()
    };
    assert_push_refused(
        "a_certificate_for_another_host_is_refused",
        security,
        |pki| Some(&pki.ca),
        "wrong_host",
        "return",
        &["tls", "not valid for"],
    );
}

#[test]
fn an_expired_certificate_is_refused() {
    let security = Security {
        server_cert: ServerCert::Expired,
        ..Security::default()
    };
    assert_push_refused(
        "an_expired_certificate_is_refused",
        security,
        |pki| Some(&pki.ca),
        "expired",
        "exit3",
        &["tls", "expired"],
    );
}

#[test]
fn mutual_tls_without_a_client_certificate_is_refused() {
    let security = Security {
        require_client_cert: true,
        ..Security::default()
    };
    assert_push_refused(
        "mutual_tls_without_a_client_certificate_is_refused",
        security,
        |pki| Some(&pki.ca),
        "mtls_no_cert",
        "return",
        &["tls"],
    );
}

// --- Unusable files: named once at start-up, nothing pushed -------------------------------

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
        let run = run_final_push(
            JOB,
            &gateway.url(),
            job,
            "exit3",
            &[("PUSHGATEWAY_CA_FILE", path_str(file))],
        );
        assert_unharmed_with_one_warning(&run, 3, &["PUSHGATEWAY_CA_FILE", path_str(file)]);
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
        let run = run_final_push(
            JOB,
            &gateway.url(),
            job,
            "return",
            &[
                ("PUSHGATEWAY_CA_FILE", path_str(&pki.ca)),
                ("PUSHGATEWAY_CLIENT_CERT_FILE", path_str(cert)),
                ("PUSHGATEWAY_CLIENT_KEY_FILE", path_str(key)),
            ],
        );
        assert_unharmed_with_one_warning(&run, 0, &[variable]);
        let warning = run.warnings()[0];
        assert!(
            warning.contains(path_str(cert)) || warning.contains(path_str(key)),
            "{job}: the path is not named in {warning:?}"
        );
        assert_nothing_for(&gateway.scrape(), job);
    }
}
