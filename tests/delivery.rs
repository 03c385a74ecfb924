//! Delivery, through real child jobs: what reaches a server when the other destination is dead,
//! when the job is ended by SIGTERM with the gateway dead, when a server asks to be retried
//! later (`Retry-After`) or refuses (4xx), and what the job logs when a dead gateway comes up.
//!
//! The destinations that work are real servers (a Pushgateway, a VictoriaMetrics taking remote
//! write), checked by what they hold. The in-process fake plays only what a real server cannot
//! be made to do: hold every connection without answering (a blackhole), answer 429/503 with
//! a `Retry-After`, refuse with a 4xx on demand, and show how many requests it got.
//!
//! The keep-alive of unchanged state (every 5 minutes) is checked by a unit test in
//! `runtime/src/background.rs`, which lets five minutes pass in the rounds' clock.
#![forbid(unsafe_code)]

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use pushtimer_tests::{
    Behaviour, FakeGateway, Gateway, JobRun, PromQl, RunningJob, Scrape, VictoriaMetrics,
    free_port, in_parallel, poll_until, run_job, spawn_job, tls::TempDir,
};

const FAULT_JOB: &str = env!("CARGO_BIN_EXE_fault_job");
const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

/// How long a server may take to show what a job sent (a periodic push, a store's flush of
/// its buffers), or a job to show a line on stderr. An outer limit, never a measurement.
const WITHIN: Duration = Duration::from_secs(30);

/// `fault_job until <dir>/stop` against `env`, with a push every 50 ms and a 1 s deadline
/// (later values in `env` win); the stop file ends it. The short interval keeps short the
/// pause after a push the blackhole held (its interval stretches to at most 16 times the
/// setting) before the next one, which [`during_a_held_push`] waits for.
fn start_until(dir: &TempDir, env: &[(&str, &str)]) -> RunningJob {
    let stop = dir.path().join("stop");
    let mut all = vec![
        ("PUSHGATEWAY_PUSH_INTERVAL", "50ms"),
        ("PUSHGATEWAY_TIMEOUT", "1s"),
    ];
    all.extend_from_slice(env);
    spawn_job(
        FAULT_JOB,
        &["until", stop.to_str().expect("UTF-8 path")],
        &all,
    )
}

/// Waits until `blackhole` accepts a new connection (a push to it has just started and will
/// hold the push thread for the whole deadline), so that what follows happens during it.
fn during_a_held_push(blackhole: &FakeGateway) {
    let before = blackhole.connections();
    let after = poll_until(WITHIN, || blackhole.connections(), |n| *n > before);
    assert!(after > before, "no push to the blackhole started");
}

/// The dead destination (`dead`, its URL) is reported, and every warning is about it, none
/// about the live one (`alive`).
fn assert_only_reported(run: &JobRun, dead: &str, alive: &str) {
    let warnings = run.warnings();
    assert!(!warnings.is_empty(), "{dead} is not reported: {run:#?}");
    for warning in warnings {
        assert!(warning.contains(dead), "{warning}");
        assert!(!warning.contains(alive), "{warning}");
    }
}

/// `fault_job`'s calls in the gateway's group `job`.
fn pushed_calls(scrape: &Scrape, job: &str) -> Option<f64> {
    scrape.value(
        "fault_job_work_seconds_count",
        &[("job", job), ("outcome", "ok")],
    )
}

/// The requests a fake received as `METHOD path`, in order.
fn request_lines(fake: &FakeGateway) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

/// How many of `lines` are exactly `line`.
fn times(lines: &[String], line: &str) -> usize {
    lines.iter().filter(|l| *l == line).count()
}

// --- 1. Side by side, one destination dead ---------------------------------------------------

/// Promise: "when both are set they are sent to side by side, so a dead one costs the other
/// nothing" (README, "When things fail"). The gateway is a blackhole (it holds every push for
/// the whole deadline, the worst a dead gateway can do); the real VictoriaMetrics gets the
/// periodic writes while the job runs and, at exit, exactly the calls the job made, though the
/// job ends while a periodic push is held by the blackhole. Every warning is the gateway's.
#[test]
fn a_blackholed_gateway_costs_remote_write_nothing() {
    let Some(victoria) = VictoriaMetrics::start("a_blackholed_gateway_costs_remote_write") else {
        return;
    };
    let blackhole = FakeGateway::start(Behaviour::Blackhole);
    let dir = TempDir::new("delivery_blackholed_gateway");
    let (gateway_url, write_url) = (blackhole.url(), victoria.write_url());
    let job = start_until(
        &dir,
        &[
            ("PUSHGATEWAY_URL", &gateway_url),
            ("PUSHTIMER_REMOTE_WRITE_URL", &write_url),
            ("PUSHGATEWAY_JOB", "beside_blackhole"),
        ],
    );
    let series = "fault_job_work_seconds_count{job=\"beside_blackhole\",outcome=\"ok\"}";
    let during = victoria.query_until(series, WITHIN, |points| {
        points.first().is_some_and(|point| point.value > 0.0)
    });
    assert!(
        during.first().is_some_and(|point| point.value > 0.0),
        "no periodic write arrived while the gateway was blackholed: {during:?}"
    );
    during_a_held_push(&blackhole);
    let (run, calls) = job.stop_until(&dir.path().join("stop"));
    let last = format!("last_over_time({series}[1h])");
    let written = victoria.query_until(&last, WITHIN, |points| {
        points.first().is_some_and(|point| point.value == calls)
    });
    assert_eq!(
        written.first().map(|point| point.value),
        Some(calls),
        "the final write carries every call: {run:#?}"
    );
    assert_only_reported(&run, &gateway_url, &write_url);
}

/// Promise: as above, the other way round. The remote-write endpoint is a blackhole; the real
/// Pushgateway gets the periodic pushes while the job runs and, at exit, exactly the calls the
/// job made, though the job ends while a periodic write is held by the blackhole. Every
/// warning is the remote-write endpoint's.
#[test]
fn a_blackholed_remote_write_endpoint_costs_the_gateway_nothing() {
    let Some(gateway) = Gateway::start("a_blackholed_remote_write_endpoint_costs_the_gateway")
    else {
        return;
    };
    let blackhole = FakeGateway::start(Behaviour::Blackhole);
    let dir = TempDir::new("delivery_blackholed_remote_write");
    let gateway_url = gateway.url();
    let write_url = format!("{}/api/v1/write", blackhole.url());
    let job = start_until(
        &dir,
        &[
            ("PUSHGATEWAY_URL", &gateway_url),
            ("PUSHTIMER_REMOTE_WRITE_URL", &write_url),
            ("PUSHGATEWAY_JOB", "beside_dead_writer"),
        ],
    );
    let has_calls = |scrape: &Scrape| {
        pushed_calls(scrape, "beside_dead_writer").is_some_and(|calls| calls > 0.0)
    };
    assert!(
        has_calls(&gateway.scrape_until(WITHIN, has_calls)),
        "no periodic push arrived while the remote-write endpoint was blackholed"
    );
    during_a_held_push(&blackhole);
    let (run, calls) = job.stop_until(&dir.path().join("stop"));
    assert_eq!(
        pushed_calls(&gateway.scrape(), "beside_dead_writer"),
        Some(calls),
        "the final push carries every call: {run:#?}"
    );
    assert_only_reported(&run, &write_url, &gateway_url);
}

// --- 2. SIGTERM with the gateway dead ----------------------------------------------------------

/// Starts `promise_job until <never>` against `url` with an hour's interval (so the only push
/// is the final one) and the deadline `timeout`, and waits until it runs.
fn start_working(dir: &TempDir, url: &str, job: &str, timeout: &str) -> RunningJob {
    let never = dir.path().join("never");
    let running = spawn_job(
        PROMISE_JOB,
        &["until", never.to_str().expect("UTF-8 path"), "0"],
        &[
            ("PUSHGATEWAY_URL", url),
            ("PUSHGATEWAY_JOB", job),
            ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
            ("PUSHGATEWAY_TIMEOUT", timeout),
        ],
    );
    assert!(
        running.wait_for_stderr("running", WITHIN),
        "the job did not start"
    );
    running
}

/// Promise: SIGTERM makes the final push "bounded by `PUSHGATEWAY_TIMEOUT`; then the job ends
/// by that signal exactly as it would have without pushtimer (its parent sees 'killed by
/// signal N')" (README, "The job itself"), with nothing listening on the gateway's port and
/// with a blackholed gateway. The bound is the 1 s deadline plus 20 s of slack for a loaded
/// machine: a final push that waited for the blackhole would never end.
#[test]
fn sigterm_with_the_gateway_dead_ends_by_the_signal_within_the_deadline() {
    let blackhole = FakeGateway::start(Behaviour::Blackhole);
    let nothing = format!("http://127.0.0.1:{}", free_port());
    // The two cases at once (a job and a stop file each): the blackholed one waits out its
    // deadline.
    let cases = [("refused", nothing), ("blackholed", blackhole.url())];
    in_parallel(&cases, |(case, url)| {
        let dir = TempDir::new("delivery_sigterm");
        let running = start_working(&dir, url, &format!("term_{case}"), "1s");
        let signalled = Instant::now();
        running.signal("TERM");
        let run = running.wait();
        let took = signalled.elapsed();
        assert_eq!(run.status.signal(), Some(15), "{case}: {run:#?}");
        assert!(
            took < Duration::from_secs(1 + 20),
            "{case}: the final push was not bounded by the deadline: {took:?}"
        );
        assert!(
            run.warnings()
                .iter()
                .any(|warning| warning.contains("not delivered")),
            "{case}: the final push was made and reported: {run:#?}"
        );
    });
    assert!(
        blackhole.connections() >= 1,
        "the blackholed gateway was tried"
    );
}

/// Promise: "a second signal ends it at once" (README, "The job itself"). The final push to a
/// blackholed gateway would take its whole 60 s deadline; a second SIGTERM while it is under
/// way (the blackhole holds its connection) ends the job by the signal long before: within
/// 30 s, half the deadline, which a loaded machine cannot come near.
#[test]
fn a_second_sigterm_during_the_final_push_ends_the_job_at_once() {
    let blackhole = FakeGateway::start(Behaviour::Blackhole);
    let dir = TempDir::new("delivery_second_sigterm");
    let running = start_working(&dir, &blackhole.url(), "term_twice", "60s");
    running.signal("TERM");
    // An hour's interval: the first connection is the final push's.
    let connected = poll_until(WITHIN, || blackhole.connections(), |n| *n >= 1);
    assert!(connected >= 1, "the final push did not start");
    let signalled = Instant::now();
    running.signal("TERM");
    let run = running.wait();
    let took = signalled.elapsed();
    assert_eq!(run.status.signal(), Some(15), "{run:#?}");
    assert!(
        took < Duration::from_secs(30),
        "the second signal did not end the final push: {took:?}"
    );
}

// --- 4. Retry-After within the deadline ------------------------------------------------------

/// Promise: "`Retry-After` honoured (within a push if it fits ...)" and "never sooner than a
/// `Retry-After` asks (seconds or an HTTP date)" (README, "When things fail"; docs/faults.md).
/// The fake is busy for 1 s from the first request, says so in either form, and refuses every
/// request that comes earlier: the flush (5 s deadline) is refused once, waits, and its one
/// retry succeeds; nothing is logged. At exit the group is deleted, so every PUT of the group
/// is the flush's.
#[test]
fn a_retry_after_that_fits_is_waited_out_within_the_push() {
    // The two forms at once, each with a fake of its own: each waits out its 1 s.
    in_parallel(&[(429, false), (503, true)], |&(code, http_date)| {
        let fake = FakeGateway::start(Behaviour::BusyUntil {
            code,
            seconds: 1,
            http_date,
        });
        let job = format!("retry_after_{code}");
        let run = run_job(
            PROMISE_JOB,
            &["flush"],
            &[
                ("PUSHGATEWAY_URL", &fake.url()),
                ("PUSHGATEWAY_JOB", &job),
                ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
                ("PUSHGATEWAY_TIMEOUT", "5s"),
                ("PUSHGATEWAY_DELETE_ON_EXIT", "1"),
            ],
        );
        let form = if http_date { "HTTP-date" } else { "seconds" };
        assert_eq!(run.status.code(), Some(0), "{form}: {run:#?}");
        assert!(run.stdout.contains("flush=ok"), "{form}: {run:#?}");
        let lines = request_lines(&fake);
        assert_eq!(
            times(&lines, &format!("PUT /metrics/job/{job}")),
            2,
            "{form}: the refused push and its one retry: {lines:?}"
        );
        assert_eq!(
            fake.refused(),
            1,
            "{form}: the retry came before the time asked: {lines:?}"
        );
        assert!(run.warnings().is_empty(), "{form}: {run:#?}");
    });
}

// --- 5. 4xx never retried --------------------------------------------------------------------

/// Promise: "4xx (refused: bad metrics, 401/403, 404): never retried; ... one attempt"
/// (README, "When things fail"), for the gateway and the remote-write endpoint (one fake
/// plays both, told apart by the path). The flush and the final push each make exactly one
/// request per destination, and the records of the run's end one each; every warning names
/// the status.
#[test]
fn a_4xx_is_never_retried() {
    for code in [400, 401, 403, 404] {
        let fake = FakeGateway::start(Behaviour::RecordStatus {
            code,
            retry_after: None,
        });
        let job = format!("refused_{code}");
        let write_url = format!("{}/api/v1/write", fake.url());
        let run = run_job(
            PROMISE_JOB,
            &["flush"],
            &[
                ("PUSHGATEWAY_URL", &fake.url()),
                ("PUSHTIMER_REMOTE_WRITE_URL", &write_url),
                ("PUSHGATEWAY_JOB", &job),
                ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
                ("PUSHGATEWAY_TIMEOUT", "2s"),
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{code}: {run:#?}");
        assert!(run.stdout.contains("flush=err"), "{code}: {run:#?}");
        let mut lines = request_lines(&fake);
        lines.sort();
        let group = format!("PUT /metrics/job/{job}");
        let mut expected = vec![
            "POST /api/v1/write".to_owned(),
            "POST /api/v1/write".to_owned(),
            group.clone(),
            group.clone(),
            format!("{group}/pushtimer_record/last_completion"),
            format!("{group}/pushtimer_record/last_success"),
        ];
        expected.sort();
        assert_eq!(lines, expected, "{code}: one attempt per push");
        let warnings = run.warnings();
        assert!(!warnings.is_empty(), "{code}: {run:#?}");
        for warning in warnings {
            assert!(warning.contains(&format!("HTTP {code}")), "{warning}");
        }
    }
}

// --- 6. Recovery logged at info --------------------------------------------------------------

/// Promise: "one warning when it starts, `info` when it works again" (README, "When things
/// fail"). Nothing listens on the gateway's port when the job starts; once it has warned, a
/// real Pushgateway comes up on that port (picked, and free, before the job started). pushtimer then says exactly two things: the
/// warning, then `works again` at `info` from target `pushtimer` (the job's logger prints
/// `LEVEL target: message`), and the gateway ends with every call.
#[test]
fn a_recovery_is_logged_at_info_after_one_warning() {
    // Started and stopped first, so that a missing binary is a skip before any job runs: its
    // port then refuses connections until the restart brings a fresh gateway up on it.
    let Some(mut gateway) = Gateway::start("a_recovery_is_logged_at_info") else {
        return;
    };
    gateway.stop();
    let url = gateway.url();
    let dir = TempDir::new("delivery_recovery");
    let job = start_until(
        &dir,
        &[("PUSHGATEWAY_URL", &url), ("PUSHGATEWAY_JOB", "recovered")],
    );
    let warned = job.wait_for_stderr("connection refused", WITHIN);
    gateway.restart();
    assert!(warned, "no warning while nothing listened");
    assert!(
        job.wait_for_stderr("works again", WITHIN),
        "no recovery logged"
    );
    let (run, calls) = job.stop_until(&dir.path().join("stop"));
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains(" pushtimer: "))
        .collect();
    assert_eq!(said.len(), 2, "one warning, one recovery: {run:#?}");
    assert!(
        said[0].starts_with("WARN pushtimer: ") && said[0].contains("connection refused"),
        "{said:?}"
    );
    assert_eq!(
        said[1],
        format!("INFO pushtimer: pushtimer: pushing to {url}/metrics/job/recovered works again"),
    );
    assert_eq!(pushed_calls(&gateway.scrape(), "recovered"), Some(calls));
}
