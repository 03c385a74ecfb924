//! Who the job says it is, and to whom it says it: the default job name (the executable's
//! file stem), awkward job names and grouping values through a real Pushgateway, which
//! credential wins (a bearer token over basic auth), a token file re-read while the job runs,
//! credentials that never cross from one destination to the other, and proxy variables that
//! are never followed.
//!
//! Names and proxies run against a real Pushgateway (and a real VictoriaMetrics); what the
//! job puts in its `Authorization` headers, which no real server shows, is seen on the raw
//! requests of the harness's recording fake, as said at each test.
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pushtimer_tests::tls::{TempDir, path_str};
use pushtimer_tests::{
    Behaviour, FakeGateway, Gateway, RecordedRequest, Scrape, assert_clean,
    assert_exit_job_complete, assert_no_secret, poll_until, run_final_push, run_job, spawn_job,
};

const EXIT_JOB: &str = env!("CARGO_BIN_EXE_exit_job");
const FAULT_JOB: &str = env!("CARGO_BIN_EXE_fault_job");
/// How long a server may take to show what a job sent.
const WITHIN: Duration = Duration::from_secs(30);

// --- Names ----------------------------------------------------------------------------------

/// `exit_job` under another file name, `<dir>/<name>`: a hard link (the executable's path,
/// `/proc/self/exe`, is then that name), or a copy when the link cannot be made.
fn exit_job_named(dir: &TempDir, name: &str) -> PathBuf {
    let path = dir.path().join(name);
    if std::fs::hard_link(EXIT_JOB, &path).is_err() {
        std::fs::copy(EXIT_JOB, &path)
            .unwrap_or_else(|e| panic!("cannot copy {EXIT_JOB} to {}: {e}", path.display()));
    }
    path
}

/// The file stem of the binary at `path`, as the test sees it.
fn stem(path: &Path) -> &str {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .expect("a UTF-8 file stem")
}

/// Checks the promise "`PUSHGATEWAY_JOB` defaults to the executable's file stem": without it
/// (unset, empty, or only blanks, which count as unset), the `job` label the real gateway shows
/// is the stem of the binary the job was run as: `exit_job` itself, and the same binary
/// linked as `nightly etl%2F grüße.v2` (the extension dropped, the awkward stem kept exactly).
#[test]
fn the_default_job_name_is_the_executables_file_stem() {
    let Some(gateway) = Gateway::start("the_default_job_name_is_the_executables_file_stem") else {
        return;
    };
    let dir = TempDir::new("default-job");
    let renamed = exit_job_named(&dir, "nightly etl%2F grüße.v2");
    let blank = exit_job_named(&dir, "blank_job.v1");
    let spaces = exit_job_named(&dir, "spaces_job");
    let cases: [(&Path, Option<&str>); 4] = [
        (Path::new(EXIT_JOB), None),
        (&renamed, None),
        (&blank, Some("")),
        (&spaces, Some("   ")),
    ];
    for (binary, job) in cases {
        let mut env = vec![
            ("PUSHGATEWAY_URL", gateway.url()),
            ("PUSHGATEWAY_PUSH_INTERVAL", "1h".to_owned()),
            ("PUSHGATEWAY_TIMEOUT", "2s".to_owned()),
        ];
        env.extend(job.map(|job| ("PUSHGATEWAY_JOB", job.to_owned())));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = run_job(path_str(binary), &["return", "5"], &env);
        assert_clean(&run);
        let scrape = gateway.scrape();
        assert_exit_job_complete(&scrape, stem(binary), &[]);
    }
    assert_eq!(stem(Path::new(EXIT_JOB)), "exit_job");
    assert_eq!(stem(&renamed), "nightly etl%2F grüße");
    // No group under any other name: every pushed series (the gateway's own have no `job`)
    // is under one of the stems.
    let scrape = gateway.scrape();
    let stems = [
        "exit_job",
        "nightly etl%2F grüße",
        "blank_job",
        "spaces_job",
    ];
    let jobs = scrape.samples.iter().filter_map(|s| s.labels.get("job"));
    for job in jobs {
        assert!(stems.contains(&job.as_str()), "a group named {job:?}");
    }
}

/// Checks the promise "`PUSHGATEWAY_JOB`: any string works (awkward ones are sent
/// base64-encoded)": each of these names, pushed to a real gateway, comes back as exactly
/// that `job` label, on the job's metrics and on the records of the run's end.
#[test]
fn awkward_job_names_round_trip_through_a_real_gateway() {
    let Some(gateway) = Gateway::start("awkward_job_names_round_trip_through_a_real_gateway")
    else {
        return;
    };
    let long_plain = "long_".repeat(200);
    let long_awkward = "ü/".repeat(300);
    let names = [
        "nightly/etl",
        "a//b/",
        "with space",
        " padded ",
        "100%",
        "%2F",
        "grüße 日本",
        "x=y",
        "user@host",
        "job@base64",
        "a+b",
        ".",
        "..",
        "say \"hi\"",
        "back\\slash",
        "two\nlines",
        "tab\there",
        long_plain.as_str(),
        long_awkward.as_str(),
    ];
    for job in names {
        let run = run_final_push(EXIT_JOB, &gateway.url(), job, "return", &[]);
        assert_clean(&run);
    }
    let scrape = gateway.scrape();
    for job in names {
        assert_exit_job_complete(&scrape, job, &[]);
        assert_eq!(
            scrape.value(
                "pushtimer_job_exit_code",
                &[("job", job), ("pushtimer_record", "last_completion")]
            ),
            Some(0.0),
            "{job:?}"
        );
        assert!(
            scrape
                .value(
                    "pushtimer_job_last_success_timestamp_seconds",
                    &[("job", job), ("pushtimer_record", "last_success")]
                )
                .is_some(),
            "{job:?}"
        );
    }
    // Nothing else: no name arrived mangled into a group of its own (the gateway's own
    // series have no `job`).
    let jobs = scrape.samples.iter().filter_map(|s| s.labels.get("job"));
    for job in jobs {
        assert!(names.contains(&job.as_str()), "a group named {job:?}");
    }
}

/// Checks the promises "`PUSHGATEWAY_GROUPING`: any value works" and "`PUSHTIMER_LABELS`:
/// constant labels on every pushtimer series" for the values `tests/protocol.rs` does not
/// try (it has `/`, a space, `+`, the empty value and non-ASCII): `%`, `=`, `@`, dot
/// segments, `@base64` itself, quotes, backslashes and a long awkward value in the grouping;
/// quotes, a backslash, a line break and non-ASCII in a constant label. The real gateway
/// shows each exactly.
#[test]
fn awkward_grouping_and_label_values_round_trip_through_a_real_gateway() {
    let Some(gateway) = Gateway::start("awkward_grouping_and_label_values_round_trip") else {
        return;
    };
    let long = "ü/".repeat(300);
    let grouping = [
        ("pct", "100%"),
        ("escaped", "%2F"),
        ("eq", "a=b"),
        ("at", "user@host"),
        ("dot", "."),
        ("dots", ".."),
        ("b64", "x@base64"),
        ("quote", "say \"hi\""),
        ("backslash", "a\\b"),
        ("long", long.as_str()),
    ];
    let grouping_variable: Vec<String> = grouping.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let grouping_variable = grouping_variable.join(",");
    let note = "say \"hi\" \\ grüße\nnext line = 100% @ home";
    let labels = format!("note={note}");
    let run = run_final_push(
        EXIT_JOB,
        &gateway.url(),
        "awkward_grouping",
        "return",
        &[
            ("PUSHGATEWAY_GROUPING", &grouping_variable),
            ("PUSHTIMER_LABELS", &labels),
        ],
    );
    assert_clean(&run);
    let scrape = gateway.scrape();
    assert_exit_job_complete(&scrape, "awkward_grouping", &grouping);
    let work = scrape.find(
        "exit_job_work_seconds_count",
        &[("job", "awkward_grouping"), ("outcome", "ok")],
    );
    assert_eq!(work.len(), 1, "{work:#?}");
    let mut expected: Vec<(&str, &str)> = grouping.to_vec();
    expected.extend([
        ("job", "awkward_grouping"),
        ("instance", ""),
        ("note", note),
        ("stage", "work"),
        ("outcome", "ok"),
    ]);
    expected.sort();
    let actual: Vec<(&str, &str)> = work[0]
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(actual, expected);
    // The records of the run's end are in groups below the same grouping key.
    let mut completion = grouping.to_vec();
    completion.extend([
        ("job", "awkward_grouping"),
        ("pushtimer_record", "last_completion"),
    ]);
    assert_eq!(
        scrape.value("pushtimer_job_exit_code", &completion),
        Some(0.0),
        "{scrape:#?}"
    );
}

// --- Credentials, seen by a recording fake ---------------------------------------------------

/// The text of a request body, decompressed as its `Content-Encoding` says (gzip from the
/// gateway pusher, snappy from remote write; the protobuf of a remote write is left binary).
fn body_bytes(request: &RecordedRequest) -> Vec<u8> {
    match request.header("content-encoding") {
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(request.body.as_slice())
                .read_to_end(&mut out)
                .expect("a gzip body");
            out
        }
        Some("snappy") => snap::raw::Decoder::new()
            .decompress_vec(&request.body)
            .expect("a snappy body"),
        None => request.body.clone(),
        Some(other) => panic!("unexpected Content-Encoding {other:?}"),
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// `secret` (a password or token, or a ready `Basic ...` credential) appears nowhere in what
/// `requests` carried: no header line, no decompressed body, no request target.
fn assert_never_sent(requests: &[RecordedRequest], secret: &str, to: &str) {
    for request in requests {
        let in_headers = request
            .headers
            .iter()
            .any(|(name, value)| name.contains(secret) || value.contains(secret));
        assert!(
            !in_headers,
            "{secret:?} reached {to} in a header: {request:#?}"
        );
        assert!(
            !request.path.contains(secret),
            "{secret:?} reached {to} in the path: {request:#?}"
        );
        assert!(
            !contains(&body_bytes(request), secret),
            "{secret:?} reached {to} in a body"
        );
    }
}

/// `Basic <base64(user:password)>`: the header value basic auth puts on the wire.
fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// Every request carried exactly `expected` as its `Authorization` (`None`: no such header),
/// and only one such header.
fn assert_authorization(requests: &[RecordedRequest], expected: Option<&str>, to: &str) {
    assert!(!requests.is_empty(), "nothing reached {to}");
    for request in requests {
        let all: Vec<&str> = request
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value.as_str())
            .collect();
        assert_eq!(all, Vec::from_iter(expected), "{to}: {request:#?}");
    }
}

/// Checks the promise "`PUSHGATEWAY_BEARER_TOKEN_FILE` wins over basic auth": with basic
/// auth from `PUSHGATEWAY_USERNAME`/`PUSHGATEWAY_PASSWORD` (said in a warning) or from the
/// URL's userinfo as well as a token file, every request carries `Bearer <token>` and nothing
/// of the basic credentials. The fake records the headers: a real Pushgateway shows none.
#[test]
fn a_bearer_token_wins_over_basic_auth() {
    const TOKEN: &str = "tok-Wins-7Hq2-bearer";
    const PASSWORD: &str = "Pw-loses-3Ns8";
    let dir = TempDir::new("bearer-wins");
    let token_file = dir.write("token", format!("{TOKEN}\n"));
    for from_url in [false, true] {
        let fake = FakeGateway::start(Behaviour::Record);
        let url = if from_url {
            fake.url()
                .replacen("http://", &format!("http://batch:{PASSWORD}@"), 1)
        } else {
            fake.url()
        };
        let mut extra = vec![("PUSHGATEWAY_BEARER_TOKEN_FILE", path_str(&token_file))];
        if !from_url {
            extra.extend([
                ("PUSHGATEWAY_USERNAME", "batch"),
                ("PUSHGATEWAY_PASSWORD", PASSWORD),
            ]);
        }
        let run = run_final_push(EXIT_JOB, &url, "bearer_wins", "return", &extra);
        assert_eq!(run.status.code(), Some(0), "{run:#?}");
        assert!(!run.stderr.contains("panicked"), "{run:#?}");
        assert_no_secret(&run, TOKEN);
        assert_no_secret(&run, PASSWORD);
        let requests = fake.requests();
        let bearer = format!("Bearer {TOKEN}");
        assert_authorization(&requests, Some(&bearer), "the gateway");
        assert_never_sent(&requests, PASSWORD, "the gateway");
        assert_never_sent(&requests, &basic("batch", PASSWORD), "the gateway");
        assert_never_sent(&requests, "Basic", "the gateway");
        // The push itself arrived: the job's summary, the run's records.
        assert!(
            requests
                .iter()
                .any(|r| contains(&body_bytes(r), "exit_job_work_seconds_count")),
            "{requests:#?}"
        );
        let warnings = run.warnings();
        // The fake speaks plain HTTP: the token travels in clear text, and the job says so.
        assert!(
            warnings.iter().any(|w| w.contains("clear text")),
            "{run:#?}"
        );
        if !from_url {
            assert!(
                warnings.iter().any(|w| w.contains("PUSHGATEWAY_USERNAME")
                    && w.contains("the bearer token is used")),
                "{run:#?}"
            );
        }
    }
}

/// Writes `token` to `file` the way a Kubernetes Secret is rotated: into a new file beside
/// it, renamed over it in one step (so no push can read a half-written token).
fn rotate(file: &Path, token: &str) {
    let fresh = file.with_extension("new");
    std::fs::write(&fresh, format!("{token}\n")).expect("the new token");
    std::fs::rename(&fresh, file).expect("the token swapped in");
}

/// The bearer token of each request, in the order they arrived.
fn tokens(fake: &FakeGateway) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|r| {
            let value = r.header("authorization").unwrap_or("none");
            value.strip_prefix("Bearer ").unwrap_or(value).to_owned()
        })
        .collect()
}

/// Checks the promise "a bearer token file is re-read when it changes" in a live job:
/// `fault_job` pushes every 30 ms while the token file is swapped twice; each new token shows
/// up on the later requests, and once a token has been sent no older one is. The fake
/// records the headers: a real Pushgateway shows none.
#[test]
fn a_token_file_is_read_again_when_it_changes_while_the_job_runs() {
    const FIRST: &str = "tok-first-1Aa";
    const SECOND: &str = "tok-second-2Bbb";
    const THIRD: &str = "tok-third-3Cccc";
    let fake = FakeGateway::start(Behaviour::Record);
    let dir = TempDir::new("token-rotation");
    let token_file = dir.write("token", format!("{FIRST}\n"));
    let stop = dir.path().join("stop");
    let job = spawn_job(
        FAULT_JOB,
        &["until", path_str(&stop)],
        &[
            ("PUSHGATEWAY_URL", &fake.url()),
            ("PUSHGATEWAY_JOB", "rotated"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "30ms"),
            ("PUSHGATEWAY_TIMEOUT", "2s"),
            ("PUSHGATEWAY_BEARER_TOKEN_FILE", path_str(&token_file)),
        ],
    );
    let sent = |token: &str| {
        let seen = poll_until(WITHIN, || tokens(&fake), |t| t.iter().any(|t| t == token));
        let mut distinct = seen.clone();
        distinct.dedup();
        assert!(
            seen.iter().any(|t| t == token),
            "{token} never sent in {} requests, which sent {distinct:?}",
            seen.len()
        );
    };
    sent(FIRST);
    rotate(&token_file, SECOND);
    sent(SECOND);
    rotate(&token_file, THIRD);
    sent(THIRD);
    std::fs::write(&stop, "").expect("the stop file");
    let run = job.wait();
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    // Only the clear-text warning (the fake is plain HTTP): no push failed over the swaps.
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run:#?}");
    assert!(warnings[0].contains("clear text"), "{run:#?}");
    for token in [FIRST, SECOND, THIRD] {
        assert_no_secret(&run, token);
    }
    // In order: first, then second, then third, never back; the final push has the last.
    let sent = tokens(&fake);
    let rank = |token: &str| [FIRST, SECOND, THIRD].iter().position(|t| *t == token);
    let ranks: Vec<Option<usize>> = sent.iter().map(|t| rank(t)).collect();
    assert!(ranks.iter().all(Option::is_some), "{sent:?}");
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{sent:?}");
    assert_eq!(sent.last().map(String::as_str), Some(THIRD), "{sent:?}");
}

/// One destination's credentials: what its requests must carry, and the secrets (raw and as
/// sent) that must never reach the other destination.
struct Credentials {
    /// The `Authorization` value its requests carry, if any.
    expected: Option<String>,
    /// Everything of it that must stay with it.
    secrets: Vec<String>,
}

/// Runs `exit_job` with the gateway (`gateway` fake, `gateway_env`) and the remote-write
/// endpoint (`writer` fake, `writer_env`) both set, as `job`; checks each destination got
/// exactly its own credentials and nothing of the other's.
#[allow(clippy::too_many_arguments)]
fn assert_kept_apart(
    job: &str,
    gateway_url: &str,
    gateway_env: &[(&str, &str)],
    gateway_credentials: &Credentials,
    writer_url: &str,
    writer_env: &[(&str, &str)],
    writer_credentials: &Credentials,
    fakes: (&FakeGateway, &FakeGateway),
) {
    let write_url = format!("{writer_url}/api/v1/write");
    let mut env = vec![
        ("PUSHGATEWAY_URL", gateway_url),
        ("PUSHTIMER_REMOTE_WRITE_URL", write_url.as_str()),
        ("PUSHGATEWAY_JOB", job),
        ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
        ("PUSHGATEWAY_TIMEOUT", "2s"),
    ];
    env.extend_from_slice(gateway_env);
    env.extend_from_slice(writer_env);
    let run = run_job(EXIT_JOB, &["return", "5"], &env);
    assert_eq!(run.status.code(), Some(0), "{job}: {run:#?}");
    assert!(!run.stderr.contains("panicked"), "{job}: {run:#?}");
    for secret in gateway_credentials
        .secrets
        .iter()
        .chain(&writer_credentials.secrets)
    {
        assert_no_secret(&run, secret);
    }
    let (gateway, writer) = fakes;
    let to_gateway = gateway.requests();
    let to_writer = writer.requests();
    // Both pushes arrived whole (the decoded bodies hold the job's own series).
    assert!(
        to_gateway
            .iter()
            .any(|r| contains(&body_bytes(r), "exit_job_work_seconds_count")),
        "{job}: {to_gateway:#?}"
    );
    assert!(
        to_writer
            .iter()
            .any(|r| contains(&body_bytes(r), "exit_job_work_seconds_count")),
        "{job}: {to_writer:#?}"
    );
    let to = format!("{job}: the gateway");
    assert_authorization(&to_gateway, gateway_credentials.expected.as_deref(), &to);
    for secret in &writer_credentials.secrets {
        assert_never_sent(&to_gateway, secret, &to);
    }
    let to = format!("{job}: the remote-write endpoint");
    assert_authorization(&to_writer, writer_credentials.expected.as_deref(), &to);
    for secret in &gateway_credentials.secrets {
        assert_never_sent(&to_writer, secret, &to);
    }
}

/// Checks the promise "the gateway and the remote-write endpoint each have their own
/// credentials; one's password must never reach the other": in four combinations (the
/// gateway's basic auth from its URL or its variables, or its token file; the endpoint's
/// none, its variables, its URL or its token file), each destination's requests carry its
/// own `Authorization` only (none when it has none), and the other's password, token and
/// basic credential appear in none of its headers or decompressed bodies. The two fakes
/// record the headers: neither a real Pushgateway nor a real store shows them.
#[test]
fn credentials_never_cross_between_the_gateway_and_the_remote_write_endpoint() {
    const GW_URL_PW: &str = "gwUrlPw-4Kd9";
    const GW_ENV_PW: &str = "gwEnvPw-8Lm2";
    const GW_TOKEN: &str = "gwToken-5Pq7";
    const RW_URL_PW: &str = "rwUrlPw-2Zx6";
    const RW_ENV_PW: &str = "rwEnvPw-9Vb3";
    const RW_TOKEN: &str = "rwToken-1Cn4";
    let dir = TempDir::new("credentials-apart");
    let gw_token = dir.write("gw-token", format!("{GW_TOKEN}\n"));
    let rw_token = dir.write("rw-token", format!("{RW_TOKEN}\n"));
    let with_userinfo = |url: String, user: &str, password: &str| {
        url.replacen("http://", &format!("http://{user}:{password}@"), 1)
    };
    let none = || Credentials {
        expected: None,
        secrets: Vec::new(),
    };
    let basic_of = |user: &str, password: &str| Credentials {
        expected: Some(basic(user, password)),
        secrets: vec![password.to_owned(), basic(user, password)],
    };
    let bearer_of = |token: &str| Credentials {
        expected: Some(format!("Bearer {token}")),
        secrets: vec![token.to_owned()],
    };

    // 1. The gateway's basic auth in its URL; the endpoint has no credentials.
    let (gateway, writer) = (
        FakeGateway::start(Behaviour::Record),
        FakeGateway::start(Behaviour::Record),
    );
    assert_kept_apart(
        "apart_gw_url",
        &with_userinfo(gateway.url(), "gwuser", GW_URL_PW),
        &[],
        &basic_of("gwuser", GW_URL_PW),
        &writer.url(),
        &[],
        &none(),
        (&gateway, &writer),
    );

    // 2. Both from their own variables.
    let (gateway, writer) = (
        FakeGateway::start(Behaviour::Record),
        FakeGateway::start(Behaviour::Record),
    );
    assert_kept_apart(
        "apart_both_env",
        &gateway.url(),
        &[
            ("PUSHGATEWAY_USERNAME", "gwuser"),
            ("PUSHGATEWAY_PASSWORD", GW_ENV_PW),
        ],
        &basic_of("gwuser", GW_ENV_PW),
        &writer.url(),
        &[
            ("PUSHTIMER_REMOTE_WRITE_USERNAME", "rwuser"),
            ("PUSHTIMER_REMOTE_WRITE_PASSWORD", RW_ENV_PW),
        ],
        &basic_of("rwuser", RW_ENV_PW),
        (&gateway, &writer),
    );

    // 3. The gateway's token file; the endpoint's basic auth in its URL.
    let (gateway, writer) = (
        FakeGateway::start(Behaviour::Record),
        FakeGateway::start(Behaviour::Record),
    );
    assert_kept_apart(
        "apart_gw_token",
        &gateway.url(),
        &[("PUSHGATEWAY_BEARER_TOKEN_FILE", path_str(&gw_token))],
        &bearer_of(GW_TOKEN),
        &with_userinfo(writer.url(), "rwuser", RW_URL_PW),
        &[],
        &basic_of("rwuser", RW_URL_PW),
        (&gateway, &writer),
    );

    // 4. The reverse of 1: only the endpoint has credentials, a token file.
    let (gateway, writer) = (
        FakeGateway::start(Behaviour::Record),
        FakeGateway::start(Behaviour::Record),
    );
    assert_kept_apart(
        "apart_rw_token",
        &gateway.url(),
        &[],
        &none(),
        &writer.url(),
        &[(
            "PUSHTIMER_REMOTE_WRITE_BEARER_TOKEN_FILE",
            path_str(&rw_token),
        )],
        &bearer_of(RW_TOKEN),
        (&gateway, &writer),
    );
}

// --- Proxies ---------------------------------------------------------------------------------

/// Checks the promise "proxy variables (`HTTP_PROXY`, ...) are not followed": with each of
/// `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` (upper and lower case), and then all six at once,
/// naming a "proxy" on loopback, the job's push reaches the real gateway and its remote write
/// the endpoint directly, and the proxy never gets a connection. The harness strips proxy
/// variables from what a job inherits; the ones given here are set on purpose (see
/// `run_job`). The proxy and the remote-write endpoint are recording fakes: what must be seen
/// is where each request went (a real store, which shows a write only seconds later, cannot
/// say that better; `tests/remote_write.rs` has the real ones).
#[test]
fn proxy_variables_are_never_followed() {
    let Some(gateway) = Gateway::start("proxy_variables_are_never_followed") else {
        return;
    };
    let proxy = FakeGateway::start(Behaviour::Record);
    let writer = FakeGateway::start(Behaviour::Record);
    let proxy_url = proxy.url();
    let variables = [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ];
    let mut cases: Vec<(String, Vec<&str>)> = variables
        .iter()
        .map(|v| (format!("proxied_{v}"), vec![*v]))
        .collect();
    cases.push(("proxied_all".to_owned(), variables.to_vec()));
    let write_url = format!("{}/api/v1/write", writer.url());
    for (job, set) in &cases {
        let mut env = vec![("PUSHTIMER_REMOTE_WRITE_URL", write_url.as_str())];
        env.extend(set.iter().map(|v| (*v, proxy_url.as_str())));
        let run = run_final_push(EXIT_JOB, &gateway.url(), job, "return", &env);
        assert_clean(&run);
    }
    let scrape: Scrape = gateway.scrape();
    for (job, _) in &cases {
        assert_exit_job_complete(&scrape, job, &[]);
    }
    // One final write per job, straight to the endpoint, each carrying its job's series.
    let writes = writer.requests();
    assert_eq!(writes.len(), cases.len(), "{writes:#?}");
    for (job, _) in &cases {
        assert!(
            writes.iter().any(|w| w.path == "/api/v1/write"
                && contains(
                    &body_bytes(w),
                    &format!("proxied_{}", &job["proxied_".len()..])
                )),
            "no write for {job}"
        );
    }
    assert_eq!(proxy.connections(), 0, "the proxy was used");
}
