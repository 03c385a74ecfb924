//! `PUSHTIMER_LISTEN`, through real child jobs: a real Prometheus scrapes the running job's
//! `/metrics` (the timed function's series, with the scrape's target labels and no others of
//! pushtimer's), beside a real Pushgateway that still gets every push, and a hostile client
//! (raw sockets from the test: a slowloris, an oversized head, a crowd of connections) does
//! not stop a real scrape. A taken port or a bad address costs one warning naming the
//! variable, and nothing else.
//!
//! The job is `fault_job until <stop-file>` (a timed call every few milliseconds until the
//! file exists, then `calls=<n>`), `listen_job steps <dir>` (one timed call per step the test
//! asks for, nothing in between), or `exit_job exit3 5` where only the start-up matters.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushtimer_tests::{
    Gateway, JobRun, PromQl, Prometheus, RunningJob, Scrape, assert_clean,
    assert_exit_job_complete, assert_unharmed_with_one_warning, free_port, http_get, poll_until,
    run_final_push, spawn_job, tls::TempDir,
};

const FAULT_JOB: &str = env!("CARGO_BIN_EXE_fault_job");
const EXIT_JOB: &str = env!("CARGO_BIN_EXE_exit_job");
const LISTEN_JOB: &str = env!("CARGO_BIN_EXE_listen_job");

/// How long a server may take to show an outcome (a scrape, a push), or the job to start
/// serving. An outer limit, never a measurement.
const WITHIN: Duration = Duration::from_secs(30);

/// The content type of the text exposition, as the endpoint must answer it.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A `fault_job until <dir>/stop` serving `/metrics` at `address` (a free loopback port).
struct Listening {
    job: RunningJob,
    dir: TempDir,
    address: String,
}

impl Listening {
    /// Starts the job with `PUSHTIMER_LISTEN` and `env`, and waits until it serves.
    fn start(name: &str, env: &[(&str, &str)]) -> Listening {
        let address = format!("127.0.0.1:{}", free_port());
        let dir = TempDir::new(name);
        let stop = dir.path().join("stop");
        let mut all = vec![("PUSHTIMER_LISTEN", address.as_str())];
        all.extend_from_slice(env);
        let job = spawn_job(
            FAULT_JOB,
            &["until", stop.to_str().expect("UTF-8 path")],
            &all,
        );
        let listening = Listening { job, dir, address };
        let served = poll_until(
            WITHIN,
            || http_get(&listening.url()),
            |got| got.as_ref().is_some_and(|(code, _)| *code == 200),
        );
        assert!(served.is_some(), "the job never served {}", listening.url());
        listening
    }

    fn url(&self) -> String {
        format!("http://{}/metrics", self.address)
    }

    /// Ends the job: it must exit 0; returns the run and the calls it made.
    fn stop(self) -> (JobRun, f64) {
        self.job.stop_until(&self.dir.path().join("stop"))
    }
}

/// What a raw request got: the status line, the headers (lowercase names), the body.
struct Answer {
    status: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.text())
            .finish()
    }
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` as it is on a new connection to `address`, reads until the server closes.
fn raw(address: &str, request: &[u8]) -> io::Result<Answer> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(WITHIN))?;
    stream.write_all(request)?;
    let mut all = Vec::new();
    stream.read_to_end(&mut all)?;
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other(format!("no head in {all:?}")))?;
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("").to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: all[end + 4..].to_vec(),
    })
}

/// `GET /metrics` on a new connection, answered 200 (else the test fails).
fn get(address: &str) -> Answer {
    let answer = raw(address, b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap_or_else(|e| panic!("GET {address}/metrics: {e}"));
    assert_eq!(answer.status, "HTTP/1.1 200 OK", "{answer:?}");
    answer
}

/// A slowloris: connections that send nothing, kept open; each one the server closes is
/// opened again within 10 ms, so the server never runs out of them.
struct Slowloris {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<usize>>,
}

impl Slowloris {
    /// Opens `connections` silent connections to `address` (all of them before it returns),
    /// and keeps them open.
    fn start(address: &str, connections: usize) -> Slowloris {
        let open_one = |address: &str| {
            let stream = TcpStream::connect(address).ok()?;
            stream.set_nonblocking(true).ok()?;
            Some(stream)
        };
        let mut open: Vec<TcpStream> = (0..connections)
            .map(|_| open_one(address).expect("a silent connection"))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let address = address.to_owned();
        let thread = std::thread::spawn(move || {
            let mut reopened = 0;
            while !stopping.load(Ordering::Relaxed) {
                for slot in &mut open {
                    let mut byte = [0u8; 1];
                    let closed = match slot.read(&mut byte) {
                        Ok(0) => true,
                        Ok(_) => false,
                        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
                    };
                    if closed && let Some(again) = open_one(&address) {
                        *slot = again;
                        reopened += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            reopened
        });
        Slowloris {
            stop,
            thread: Some(thread),
        }
    }

    /// Closes every connection; returns how many the server had closed (and were reopened).
    fn stop(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|thread| thread.join().expect("the slowloris thread"))
            .unwrap_or(0)
    }
}

impl Drop for Slowloris {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

// --- A real Prometheus scrapes the running job ----------------------------------------------

/// Promise: "serve `/metrics` at this address while the job runs" (README). A real Prometheus
/// scraping the job every second sees the timed function's calls grow while the job runs,
/// with exactly the target's labels (`job="listen"`, `instance`), the series' own (`outcome`)
/// and `PUSHTIMER_LABELS`' (`team`): none of pushtimer's job or grouping labels, so no
/// `exported_job`; `up` is 1. A direct GET shows the HELP and TYPE lines and the headers.
#[test]
fn prometheus_scrapes_the_running_job() {
    let test = "prometheus_scrapes_the_running_job";
    // The address is known before the job starts: Prometheus first, so a missing binary
    // skips before any job runs.
    let address = format!("127.0.0.1:{}", free_port());
    let Some(prometheus) = Prometheus::start_scraping(test, std::slice::from_ref(&address)) else {
        return;
    };
    let dir = TempDir::new("listen_prometheus");
    let stop = dir.path().join("stop");
    let job = spawn_job(
        FAULT_JOB,
        &["until", stop.to_str().expect("UTF-8 path")],
        &[
            ("PUSHTIMER_LISTEN", &address),
            ("PUSHTIMER_LABELS", "team=ml"),
        ],
    );
    let listening = Listening { job, dir, address };

    let series = "fault_job_work_seconds_count{job=\"listen\"}";
    let first = prometheus.query_until(series, WITHIN, |points| {
        points.first().is_some_and(|point| point.value > 0.0)
    });
    let point = first
        .first()
        .unwrap_or_else(|| panic!("never scraped: {first:?}"));
    let labels: Vec<(&str, &str)> = point
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("__name__", "fault_job_work_seconds_count"),
            ("instance", listening.address.as_str()),
            ("job", "listen"),
            ("outcome", "ok"),
            ("team", "ml"),
        ]
    );
    // Later scrapes see the calls made since: the endpoint serves the live state.
    let later = prometheus.query_until(series, WITHIN, |points| {
        points.first().is_some_and(|p| p.value > point.value)
    });
    assert!(
        later.first().is_some_and(|p| p.value > point.value),
        "the count never grew past {}: {later:?}",
        point.value
    );
    let up = prometheus.query("up{job=\"listen\"} == 1");
    assert_eq!(up.len(), 1, "{up:?}");

    let answer = get(&listening.address);
    assert_eq!(answer.header("content-type"), Some(CONTENT_TYPE));
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(
        answer.header("content-length"),
        Some(answer.body.len().to_string().as_str())
    );
    let text = answer.text();
    assert!(
        text.contains("# HELP fault_job_work_seconds Does one unit of work.\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE fault_job_work_seconds summary\n"),
        "{text}"
    );
    assert!(text.contains("fault_job_work_seconds_count{outcome=\"ok\",team=\"ml\"} "));

    let (run, _) = listening.stop();
    assert_clean(&run);
}

// --- Beside a real Pushgateway ----------------------------------------------------------------

/// Promise: destinations "work alone or side by side" (README). Beside the endpoint the
/// gateway gets each change while the job runs, as before: `listen_job` makes one call per
/// step and nothing in between, so the gateway shows step n only if a round of its own saw
/// that change (had the endpoint's lane taken the gateway's "changed" flags, some steps would
/// wait for the keep-alive, 5 minutes). At exit the gateway gets the final push with every
/// call; the endpoint serves each step too, with no job or instance label.
#[test]
fn beside_a_gateway_every_change_and_the_final_push_arrive() {
    let Some(gateway) = Gateway::start("beside_a_gateway_every_change_and_the_final_push_arrive")
    else {
        return;
    };
    let address = format!("127.0.0.1:{}", free_port());
    let url = gateway.url();
    let dir = TempDir::new("listen_beside_gateway");
    let job = spawn_job(
        LISTEN_JOB,
        &["steps", dir.path().to_str().expect("UTF-8 path")],
        &[
            ("PUSHTIMER_LISTEN", &address),
            ("PUSHGATEWAY_URL", &url),
            ("PUSHGATEWAY_JOB", "listen_beside"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "100ms"),
            ("PUSHGATEWAY_TIMEOUT", "2s"),
        ],
    );
    let pushed = |scrape: &Scrape| {
        scrape.value(
            "listen_job_step_seconds_count",
            &[("job", "listen_beside"), ("outcome", "ok")],
        )
    };
    const STEPS: u32 = 5;
    for n in 1..=STEPS {
        std::fs::write(dir.path().join(format!("call-{n}")), "").expect("the step file");
        assert!(
            job.wait_for_stderr(&format!("called {n}"), WITHIN),
            "step {n} not made"
        );
        let expected = Some(f64::from(n));
        let held = gateway.scrape_until(WITHIN, |scrape| pushed(scrape) == expected);
        assert_eq!(
            pushed(&held),
            expected,
            "step {n} never reached the gateway"
        );
        let line = format!("listen_job_step_seconds_count{{outcome=\"ok\"}} {n}\n");
        let served = poll_until(
            WITHIN,
            || http_get(&format!("http://{address}/metrics")),
            |got| got.as_ref().is_some_and(|(_, body)| body.contains(&line)),
        );
        let (_, text) = served.unwrap_or_else(|| panic!("{address} never served"));
        assert!(text.contains(&line), "step {n} never served: {text}");
        assert!(
            !text.contains("job=\"") && !text.contains("instance=\""),
            "{text}"
        );
    }
    std::fs::write(dir.path().join("stop"), "").expect("the stop file");
    let run = job.wait();
    assert_clean(&run);
    assert_eq!(
        pushed(&gateway.scrape()),
        Some(f64::from(STEPS)),
        "{run:#?}"
    );
}

// --- Hostile clients ------------------------------------------------------------------------

/// Promise: "a slow or hostile scraper never slows the job" (docs/listen.md). A slowloris
/// holds 32 connections that send nothing, reopening each one the server closes; Prometheus
/// still scrapes successfully after it started (a sample of `up` == 1 stamped later), and the
/// server closed some of the silent ones (the oldest go when a new connection comes).
#[test]
fn a_slowloris_does_not_stop_prometheus_scraping() {
    let test = "a_slowloris_does_not_stop_prometheus_scraping";
    let address = format!("127.0.0.1:{}", free_port());
    let Some(prometheus) = Prometheus::start_scraping(test, std::slice::from_ref(&address)) else {
        return;
    };
    let dir = TempDir::new("listen_slowloris");
    let stop = dir.path().join("stop");
    let job = spawn_job(
        FAULT_JOB,
        &["until", stop.to_str().expect("UTF-8 path")],
        &[("PUSHTIMER_LISTEN", &address)],
    );
    let listening = Listening { job, dir, address };
    let up = prometheus.query_until("up{job=\"listen\"} == 1", WITHIN, |p| !p.is_empty());
    assert_eq!(up.len(), 1, "never up: {up:?}");

    let slowloris = Slowloris::start(&listening.address, 32);
    let attacked = unix_now();
    // `timestamp()` of a selector is the sample's time (of anything else, the query's).
    let query = format!(
        "timestamp(up{{job=\"listen\"}}) > {attacked} and on(instance) up{{job=\"listen\"}} == 1"
    );
    let scraped = prometheus.query_until(&query, WITHIN, |p| !p.is_empty());
    assert_eq!(
        scraped.len(),
        1,
        "no successful scrape since the slowloris started: {scraped:?}"
    );
    get(&listening.address);
    let reopened = slowloris.stop();
    assert!(reopened > 0, "the server never closed a silent connection");
    let (run, _) = listening.stop();
    assert_clean(&run);
}

/// Promise: the request head is read up to 8 KiB. A 16 KiB head is answered 431 (not
/// served), one of 4 KiB is served, and the endpoint goes on serving.
#[test]
fn a_request_head_over_the_limit_is_refused() {
    let listening = Listening::start("listen_large_head", &[]);
    let head = |size: usize| {
        let mut request = b"GET /metrics HTTP/1.1\r\nX-Filler: ".to_vec();
        request.resize(size, b'a');
        request.extend_from_slice(b"\r\n\r\n");
        request
    };
    let refused = raw(&listening.address, &head(16 * 1024)).expect("an answer");
    assert_eq!(
        refused.status, "HTTP/1.1 431 Request Header Fields Too Large",
        "{refused:?}"
    );
    let served = raw(&listening.address, &head(4 * 1024)).expect("an answer");
    assert_eq!(served.status, "HTTP/1.1 200 OK", "{served:?}");
    get(&listening.address);
    let (run, _) = listening.stop();
    assert_clean(&run);
}

/// Promise: a bounded number of connections at once, the oldest dropped for a new one. A
/// hundred connections, each with half a request sent and never finished, do not stop a
/// normal GET (through an HTTP client) that comes after them.
#[test]
fn many_connections_at_once_do_not_stop_a_normal_get() {
    let listening = Listening::start("listen_many", &[]);
    let crowd: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut stream = TcpStream::connect(&listening.address).expect("connect");
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\n")
                .expect("half a request");
            stream
        })
        .collect();
    let got = http_get(&listening.url());
    let (code, body) = got.unwrap_or_else(|| panic!("the GET was not answered"));
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("fault_job_work_seconds_count{outcome=\"ok\"} "),
        "{body}"
    );
    drop(crowd);
    let (run, _) = listening.stop();
    assert_clean(&run);
}

/// Promise: "a scraper hammering the endpoint costs bounded CPU": the registry is rendered at
/// most once a second, and requests in between get the same bytes. While the job changes its
/// state every few milliseconds, 200 GETs in a row see at most one rendering from before them
/// and one per full second they took.
#[test]
fn hammering_the_endpoint_renders_at_most_once_a_second() {
    let listening = Listening::start("listen_hammered", &[]);
    let started = Instant::now();
    let bodies: BTreeSet<Vec<u8>> = (0..200).map(|_| get(&listening.address).body).collect();
    let took = started.elapsed().as_secs();
    let most = usize::try_from(took).expect("seconds").saturating_add(2);
    assert!(
        bodies.len() <= most,
        "{} renderings in {took} s of requests",
        bodies.len()
    );
    let (run, _) = listening.stop();
    assert_clean(&run);
}

// --- Start-up failures ----------------------------------------------------------------------

/// Promise: "a taken port costs one warning naming `PUSHTIMER_LISTEN`; the job and the other
/// destinations unharmed". The test holds the port; the job exits with its own code 3, warns
/// once (naming the variable and the address), and the gateway gets everything.
#[test]
fn a_taken_port_costs_one_warning_and_nothing_else() {
    let Some(gateway) = Gateway::start("a_taken_port_costs_one_warning_and_nothing_else") else {
        return;
    };
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = taken.local_addr().expect("address").to_string();
    let run = run_final_push(
        EXIT_JOB,
        &gateway.url(),
        "listen_taken",
        "exit3",
        &[("PUSHTIMER_LISTEN", &address)],
    );
    assert_unharmed_with_one_warning(&run, 3, &["PUSHTIMER_LISTEN", &address]);
    assert_exit_job_complete(&gateway.scrape(), "listen_taken", &[]);
    drop(taken);
}

/// Promise: a bad address (a host name, no port, an IPv6 address without brackets, port 0)
/// costs one warning naming `PUSHTIMER_LISTEN` and the address; the job keeps its exit code
/// and the gateway gets everything.
#[test]
fn a_bad_address_costs_one_warning() {
    let Some(gateway) = Gateway::start("a_bad_address_costs_one_warning") else {
        return;
    };
    for (i, address) in ["localhost:9464", "127.0.0.1", "::1:9464", ":0"]
        .into_iter()
        .enumerate()
    {
        let job = format!("listen_bad_{i}");
        let run = run_final_push(
            EXIT_JOB,
            &gateway.url(),
            &job,
            "exit3",
            &[("PUSHTIMER_LISTEN", address)],
        );
        assert_unharmed_with_one_warning(&run, 3, &["PUSHTIMER_LISTEN", address]);
        assert_exit_job_complete(&gateway.scrape(), &job, &[]);
    }
}
