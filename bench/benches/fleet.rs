//! Fleet simulation: one real Pushgateway, many jobs pushing to it.
//!
//! Starts `prometheus-pushgateway` on a free loopback port (no persistence), then N threads,
//! each a simulated batch job with its own [`pushtimer::Pusher`] (group
//! `fleet_job_<i>/instance/sim-<i>`), pushing a pushtimer-shaped exposition of S sample lines
//! (the run's gauges, a histogram with the default buckets, summaries per `outcome`), with new
//! values on every push. Two policies:
//!
//! - `fixed`: every job starts at the same instant and waits exactly the interval after each
//!   push, as the push thread did before pacing (a CronJob fleet started on the same minute);
//! - `paced`: the runtime's own [`Pacing`] (a random first wait, ± 20 % jitter, backoff under
//!   strain), fed exactly as the push thread feeds it.
//!
//! Per run: pushes attempted, succeeded and failed (by kind), client-side latency of each
//! `Pusher::push` call (retries included), the gateway's CPU (utime + stime over the
//! measurement window) and RSS, and the simulator's own CPU (it shares the machine's cores).
//! One JSON line per run goes to `<target>/fleet/results.json`; `bench/report.py` writes the
//! BENCHMARKS.md section from it.
//!
//! A `[[bench]]` with `harness = false` rather than a binary: it is built with the release
//! (`bench`) profile by `cargo bench`, like the other benchmarks, and needs no dependency
//! beyond the crate's dev-dependencies. Run it with `bench/fleet.sh` or
//! `cargo bench -p pushtimer-bench --bench fleet`. Settings (environment):
//!
//! - `PUSHTIMER_FLEET_RUNS`: comma-separated `policy:jobs:interval[:nocheck][:long]`, e.g.
//!   `fixed:1000:1s,paced:1000:1s,paced:2000:1s:nocheck,paced:1000:15s:long` (`nocheck`: the
//!   gateway runs with `--push.disable-consistency-check`; `long`: 5 minutes of warm-up and 5
//!   of measurement, for the backoff to settle; default: the suite in [`default_runs`]);
//! - `PUSHTIMER_FLEET_SERIES`: sample lines per push (default 50);
//! - `PUSHTIMER_FLEET_WARMUP`, `PUSHTIMER_FLEET_MEASURE`: fixed warm-up and measurement times
//!   (default: warm-up max(5 s, one interval), measurement max(30 s, four intervals));
//! - `PUSHTIMER_FLEET_TIMEOUT`: the deadline of one push (default: the runtime's, 5 s);
//! - `PUSHTIMER_FLEET_GATEWAY`: the gateway binary (default `/usr/bin/prometheus-pushgateway`);
//! - `PUSHTIMER_FLEET_GATEWAY_ARGS`: more flags for every gateway (space-separated);
//! - `PUSHTIMER_FLEET_OUT`: the results file (default `<target>/fleet/results.json`).
//!
//! Without `--bench` (`cargo test --benches`) it does nothing: a suite takes minutes.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushtimer::__internals::{Feedback, Pacing};
use pushtimer::{PushError, Pusher};

const DEFAULT_GATEWAY: &str = "/usr/bin/prometheus-pushgateway";
const DEFAULT_SERIES: usize = 50;
/// Stack of a simulated job's thread: a push (ureq, gzip) needs far less.
const JOB_STACK: usize = 256 * 1024;
/// How long the gateway may take to answer `/-/ready` after starting.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// The functions of the simulated batch job, each timed into a summary (cycled, with a
/// numeric suffix, when more series are asked for than these provide).
const STAGES: &[&str] = &[
    "load_shard",
    "parse_rows",
    "transform",
    "dedupe",
    "validate",
    "enrich",
    "upload_batch",
    "write_manifest",
    "compact",
    "notify",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Fixed,
    Paced,
}

impl Policy {
    fn name(self) -> &'static str {
        match self {
            Policy::Fixed => "fixed",
            Policy::Paced => "paced",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct RunSpec {
    policy: Policy,
    jobs: usize,
    interval: Duration,
    /// The gateway's consistency check of every push (its default); off is
    /// `--push.disable-consistency-check`.
    check: bool,
    /// A long run ([`LONG_WARMUP`], [`LONG_MEASURE`]): long enough for the backoff to settle,
    /// which takes several stretched intervals when the interval is 15 s.
    long: bool,
}

/// Warm-up of a long run.
const LONG_WARMUP: Duration = Duration::from_secs(300);
/// Measurement of a long run.
const LONG_MEASURE: Duration = Duration::from_secs(300);

impl RunSpec {
    fn name(&self) -> String {
        format!(
            "{}-{}-{}s{}{}",
            self.policy.name(),
            self.jobs,
            self.interval.as_secs_f64(),
            if self.check { "" } else { "-nocheck" },
            if self.long { "-long" } else { "" }
        )
    }
}

/// The default suite (about 35 minutes): both policies at 1 s around and past the gateway's
/// limit; at the runtime's default interval (15 s) `paced` for growing fleets and `fixed`
/// where its burst every interval may matter; and the largest fleets against a gateway
/// without its consistency check, whose cost grows with every group it holds.
fn default_runs() -> Vec<RunSpec> {
    let mut runs = Vec::new();
    let one = Duration::from_secs(1);
    let default = pushtimer::DEFAULT_PUSH_INTERVAL;
    let mut add = |policy, jobs, interval, check| {
        runs.push(RunSpec {
            policy,
            jobs,
            interval,
            check,
            long: false,
        })
    };
    for jobs in [100, 200, 500, 1000] {
        add(Policy::Fixed, jobs, one, true);
        add(Policy::Paced, jobs, one, true);
    }
    for jobs in [100, 500] {
        add(Policy::Paced, jobs, default, true);
    }
    add(Policy::Fixed, 500, default, true);
    for jobs in [1000, 2000] {
        add(Policy::Fixed, jobs, one, false);
        add(Policy::Paced, jobs, one, false);
    }
    // 1,000 jobs at the default interval overload the gateway (its consistency check costs
    // more with every group it holds): only a long run shows where the backoff settles.
    for policy in [Policy::Fixed, Policy::Paced] {
        runs.push(RunSpec {
            policy,
            jobs: 1000,
            interval: default,
            check: true,
            long: true,
        });
    }
    runs
}

/// `30`, `30s`, `500ms`, `1.5s`, `2m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: {text:?}"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit in {text:?} (ms, s, m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("not a duration: {text:?}"))
}

fn parse_runs(text: &str) -> Result<Vec<RunSpec>, String> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let fields: Vec<&str> = part.trim().split(':').collect();
            let long = fields.last() == Some(&"long");
            let fields = if long {
                &fields[..fields.len() - 1]
            } else {
                &fields[..]
            };
            let (policy, jobs, interval, check) = match fields {
                [policy, jobs, interval] => (*policy, *jobs, *interval, true),
                [policy, jobs, interval, "check"] => (*policy, *jobs, *interval, true),
                [policy, jobs, interval, "nocheck"] => (*policy, *jobs, *interval, false),
                _ => {
                    return Err(format!(
                        "{part:?}: expected policy:jobs:interval[:check|:nocheck][:long]"
                    ));
                }
            };
            let policy = match policy {
                "fixed" => Policy::Fixed,
                "paced" => Policy::Paced,
                _ => return Err(format!("{part:?}: the policy is fixed or paced")),
            };
            let jobs = jobs
                .parse()
                .map_err(|_| format!("{part:?}: jobs must be a number"))?;
            let interval = parse_duration(interval)?;
            if interval.is_zero() {
                return Err(format!("{part:?}: the interval must be above zero"));
            }
            Ok(RunSpec {
                policy,
                jobs,
                interval,
                check,
                long,
            })
        })
        .collect()
}

/// The suite's settings, from the environment.
struct Settings {
    runs: Vec<RunSpec>,
    series: usize,
    warmup: Option<Duration>,
    measure: Option<Duration>,
    timeout: Duration,
    gateway: PathBuf,
    gateway_args: Vec<String>,
    out: PathBuf,
}

impl Settings {
    fn from_env() -> Result<Settings, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let duration = |name: &str| {
            var(name)
                .map(|v| parse_duration(&v).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let runs = match var("PUSHTIMER_FLEET_RUNS") {
            Some(text) => parse_runs(&text).map_err(|e| format!("PUSHTIMER_FLEET_RUNS: {e}"))?,
            None => default_runs(),
        };
        let series = match var("PUSHTIMER_FLEET_SERIES") {
            Some(text) => text
                .trim()
                .parse()
                .map_err(|_| format!("PUSHTIMER_FLEET_SERIES: not a number: {text:?}"))?,
            None => DEFAULT_SERIES,
        };
        if series == 0 {
            return Err("PUSHTIMER_FLEET_SERIES must be at least 1".into());
        }
        let out = match var("PUSHTIMER_FLEET_OUT") {
            Some(path) => PathBuf::from(path),
            None => target_dir()?.join("fleet").join("results.json"),
        };
        Ok(Settings {
            runs,
            series,
            warmup: duration("PUSHTIMER_FLEET_WARMUP")?,
            measure: duration("PUSHTIMER_FLEET_MEASURE")?,
            timeout: duration("PUSHTIMER_FLEET_TIMEOUT")?.unwrap_or(pushtimer::DEFAULT_TIMEOUT),
            gateway: PathBuf::from(
                var("PUSHTIMER_FLEET_GATEWAY").unwrap_or_else(|| DEFAULT_GATEWAY.into()),
            ),
            gateway_args: var("PUSHTIMER_FLEET_GATEWAY_ARGS")
                .map(|v| v.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            out,
        })
    }

    fn warmup(&self, interval: Duration) -> Duration {
        self.warmup
            .unwrap_or_else(|| interval.max(Duration::from_secs(5)))
    }

    fn measure(&self, interval: Duration) -> Duration {
        self.measure
            .unwrap_or_else(|| (interval * 4).max(Duration::from_secs(30)))
    }
}

/// Cargo's target directory: this executable is `<target>/<profile>/deps/fleet-<hash>`.
fn target_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("cannot find the target directory above {}", exe.display()))
}

// --- the exposition --------------------------------------------------------------------------

/// What a sample's value is, at push number `push` (from 1).
#[derive(Debug, Clone, Copy)]
enum Value {
    /// Unix time the job started.
    Start,
    /// Seconds since the job started.
    Elapsed,
    /// The push interval, in seconds.
    Interval,
    /// A summary's or histogram's count: `calls` more per push.
    Count { calls: u64 },
    /// The matching sum: `calls` more per push, each taking `mean` seconds.
    Sum { calls: u64, mean: f64 },
    /// A histogram bucket: the calls (of `calls` per push, exponentially distributed around
    /// `mean` seconds) at or below `bound`.
    Bucket { calls: u64, mean: f64, bound: f64 },
}

/// A pushtimer-shaped exposition, generated once: text pieces each followed by a value.
struct Exposition {
    pieces: Vec<(String, Value)>,
    /// Sample lines in every rendering.
    series: usize,
}

struct Builder {
    pieces: Vec<(String, Value)>,
    pending: String,
    series: usize,
}

impl Builder {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = write!(self.pending, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
    }

    fn sample(&mut self, name_and_labels: &str, value: Value) {
        self.pending.push_str(name_and_labels);
        self.pending.push(' ');
        self.pieces.push((std::mem::take(&mut self.pending), value));
        self.series += 1;
    }
}

impl Exposition {
    /// `series` sample lines: the run's three gauges, one histogram (default buckets, when
    /// there is room for it), then summaries (`_count` and `_sum` per `outcome`), and one
    /// more gauge when an odd line is left.
    fn new(series: usize) -> Exposition {
        let mut b = Builder {
            pieces: Vec::new(),
            pending: String::new(),
            series: 0,
        };
        let gauges = [
            (
                "pushtimer_job_start_timestamp_seconds",
                "Unix time the current (or last) run of this job started.",
                Value::Start,
            ),
            (
                "pushtimer_job_duration_seconds",
                "Seconds the current run has taken so far; the whole run once it has ended.",
                Value::Elapsed,
            ),
            (
                "pushtimer_job_expected_interval_seconds",
                "How often this job is expected to succeed, in seconds (PUSHTIMER_EXPECTED_INTERVAL).",
                Value::Interval,
            ),
        ];
        for (name, help, value) in gauges.into_iter().take(series) {
            b.family(name, "gauge", help);
            b.sample(name, value);
        }
        let buckets = pushtimer::DEFAULT_BUCKETS;
        let histogram_lines = buckets.len() + 3;
        if series - b.series >= histogram_lines {
            let name = "upload_request_seconds";
            let (calls, mean) = (40, 0.8);
            b.family(
                name,
                "histogram",
                "Wall-clock time of `upload_request`, in seconds.",
            );
            for &bound in buckets {
                b.sample(
                    &format!("{name}_bucket{{outcome=\"ok\",le=\"{bound}\"}}"),
                    Value::Bucket { calls, mean, bound },
                );
            }
            b.sample(
                &format!("{name}_bucket{{outcome=\"ok\",le=\"+Inf\"}}"),
                Value::Count { calls },
            );
            b.sample(
                &format!("{name}_sum{{outcome=\"ok\"}}"),
                Value::Sum { calls, mean },
            );
            b.sample(
                &format!("{name}_count{{outcome=\"ok\"}}"),
                Value::Count { calls },
            );
        }
        let mut stage = 0usize;
        while series - b.series >= 2 {
            let base = STAGES[stage % STAGES.len()];
            let name = match stage / STAGES.len() {
                0 => format!("{base}_seconds"),
                round => format!("{base}_{}_seconds", round + 1),
            };
            let calls = 1 + (stage as u64 * 7) % 23;
            let mean = 0.05 * (1 + stage % 9) as f64;
            b.family(
                &name,
                "summary",
                &format!("Wall-clock time of `{base}`, in seconds."),
            );
            for (outcome, calls) in [("error", calls.div_ceil(10)), ("ok", calls)] {
                if series - b.series < 2 {
                    break;
                }
                b.sample(
                    &format!("{name}_sum{{outcome=\"{outcome}\"}}"),
                    Value::Sum { calls, mean },
                );
                b.sample(
                    &format!("{name}_count{{outcome=\"{outcome}\"}}"),
                    Value::Count { calls },
                );
            }
            stage += 1;
        }
        if series > b.series {
            let name = "etl_rows_in_last_shard";
            b.family(name, "gauge", "Rows in the shard loaded last.");
            b.sample(name, Value::Count { calls: 1234 });
        }
        let exposition = Exposition {
            pieces: b.pieces,
            series: b.series,
        };
        // Count the sample lines of a real rendering: the number reported is what was sent.
        let mut text = String::new();
        exposition.render(&mut text, 1, 0.0, 0.0, 1.0);
        let lines = text
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .count();
        assert_eq!(lines, exposition.series, "sample lines of the exposition");
        exposition
    }

    fn render(&self, out: &mut String, push: u64, start: f64, now: f64, interval: f64) {
        out.clear();
        for (text, value) in &self.pieces {
            out.push_str(text);
            let _ = match *value {
                Value::Start => write!(out, "{start}"),
                Value::Elapsed => write!(out, "{}", (now - start).max(0.0)),
                Value::Interval => write!(out, "{interval}"),
                Value::Count { calls } => write!(out, "{}", calls * push),
                Value::Sum { calls, mean } => write!(out, "{}", (calls * push) as f64 * mean),
                Value::Bucket { calls, mean, bound } => {
                    let share = 1.0 - (-bound / mean).exp();
                    write!(out, "{}", ((calls * push) as f64 * share).floor())
                }
            };
            out.push('\n');
        }
    }
}

// --- the gateway -----------------------------------------------------------------------------

struct Gateway {
    child: Child,
    port: u16,
}

impl Gateway {
    fn start(binary: &Path, extra: &[String], log: &Path) -> Result<Gateway, String> {
        let port = {
            let listener =
                TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind loopback: {e}"))?;
            listener
                .local_addr()
                .map_err(|e| format!("address: {e}"))?
                .port()
        };
        let log = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_err = log.try_clone().map_err(|e| format!("log: {e}"))?;
        let child = Command::new(binary)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--persistence.file=")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let mut gateway = Gateway { child, port };
        let since = Instant::now();
        loop {
            if let Ok((200, _)) = gateway.get("/-/ready") {
                return Ok(gateway);
            }
            if let Ok(Some(status)) = gateway.child.try_wait() {
                return Err(format!("the gateway exited at start: {status}"));
            }
            if since.elapsed() > READY_WITHIN {
                gateway.stop();
                return Err(format!("the gateway was not ready within {READY_WITHIN:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A plain HTTP/1.0 GET on loopback: (status, body).
    fn get(&self, path: &str) -> Result<(u16, String), String> {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.port
        )
        .map_err(|e| format!("send: {e}"))?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .map_err(|e| format!("read: {e}"))?;
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("no status in {head:?}"))?;
        Ok((status, body.to_owned()))
    }

    /// The gateway's own count of push requests (`handler="push"`, by method and code), its
    /// goroutines and open file descriptors, from its `/metrics`.
    fn self_metrics(&self) -> BTreeMap<String, f64> {
        let mut found = BTreeMap::new();
        let Ok((200, body)) = self.get("/metrics") else {
            return found;
        };
        for line in body.lines() {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let key = if let Some(labels) = series.strip_prefix("pushgateway_http_requests_total{")
            {
                if !labels.contains("handler=\"push\"") {
                    continue;
                }
                let label = |name: &str| {
                    labels
                        .split(',')
                        .find_map(|pair| pair.strip_prefix(&format!("{name}=\"")))
                        .map(|v| v.trim_end_matches(['"', '}']).to_owned())
                        .unwrap_or_default()
                };
                format!("push_{}_{}", label("method"), label("code"))
            } else if series == "go_goroutines" || series == "process_open_fds" {
                series.to_owned()
            } else {
                continue;
            };
            *found.entry(key).or_insert(0.0) += value;
        }
        found
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

// --- /proc -----------------------------------------------------------------------------------

/// Clock ticks per second of `/proc/<pid>/stat`'s times.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in clock ticks (`pid` "self" for this one).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces), from field 3 (state) on.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy time of the whole machine (every CPU, every process), in clock ticks: `/proc/stat`'s
/// total less idle and iowait.
fn machine_busy_ticks() -> Option<u64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = ticks.iter().take(8).sum();
    Some(total - ticks.get(3)? - ticks.get(4)?)
}

/// A `/proc/<pid>/status` field in kB (VmRSS, VmHWM), as MiB.
fn status_mib(pid: &str, field: &str) -> Option<f64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

// --- one simulated job -----------------------------------------------------------------------

/// One push: when it started (from the run's start), how long the call took, how it ended.
struct Sample {
    started: Duration,
    took: Duration,
    /// `None` when it succeeded, else the kind of failure.
    failure: Option<String>,
}

struct JobReport {
    samples: Vec<Sample>,
    /// The first message of each kind of failure.
    examples: BTreeMap<String, String>,
    /// The paced interval at the end, over the setting (1 = not stretched).
    stretch: Option<f64>,
}

/// What the jobs of a run share.
struct Plan {
    spec: RunSpec,
    gateway: String,
    timeout: Duration,
    exposition: Exposition,
    /// The run's start: every job is started at this instant.
    start: Instant,
    start_unix: f64,
    /// No push starts at or after this.
    stop: Instant,
}

fn failure_kind(error: &PushError) -> String {
    match error {
        PushError::Status { code, .. } => format!("http_{code}"),
        PushError::Timeout => "timeout".into(),
        PushError::ConnectionRefused => "refused".into(),
        PushError::Transport { .. } => "transport".into(),
        other => {
            let text = format!("{other:?}");
            text.split([' ', '{', '('])
                .next()
                .unwrap_or("other")
                .to_owned()
        }
    }
}

fn sleep_until(when: Instant) {
    let now = Instant::now();
    if when > now {
        std::thread::sleep(when - now);
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn job(plan: &Plan, index: usize) -> JobReport {
    let interval = plan.spec.interval;
    let pusher = Pusher::new(&plan.gateway, &format!("fleet_job_{index}"))
        .and_then(|p| p.grouping("instance", &format!("sim-{index}")))
        .expect("a valid pusher")
        .timeout(plan.timeout);
    let mut pacing = Pacing::new(interval);
    let mut next = match plan.spec.policy {
        Policy::Fixed => plan.start,
        Policy::Paced => plan.start + pacing.first_wait(),
    };
    let mut report = JobReport {
        samples: Vec::new(),
        examples: BTreeMap::new(),
        stretch: None,
    };
    let mut body = String::new();
    let mut push = 0u64;
    while next < plan.stop {
        sleep_until(next);
        push += 1;
        plan.exposition.render(
            &mut body,
            push,
            plan.start_unix,
            unix_now(),
            interval.as_secs_f64(),
        );
        let started = Instant::now();
        let result = pusher.push(&body);
        let ended = Instant::now();
        let took = ended - started;
        let failure = result.as_ref().err().map(|error| {
            let kind = failure_kind(error);
            report
                .examples
                .entry(kind.clone())
                .or_insert_with(|| error.to_string());
            kind
        });
        report.samples.push(Sample {
            started: started - plan.start,
            took,
            failure,
        });
        next = match plan.spec.policy {
            Policy::Fixed => ended + interval,
            Policy::Paced => {
                // What the push thread does after a periodic round (runtime/src/background.rs),
                // but for Retry-After, which `Pusher::push` does not return (and which the
                // Pushgateway does not send).
                pacing.record(Feedback::of(&result, took, None, interval), ended);
                ended + pacing.next_wait(ended)
            }
        };
    }
    if plan.spec.policy == Policy::Paced {
        report.stretch = Some(pacing.interval().as_secs_f64() / interval.as_secs_f64());
    }
    report
}

// --- one run ---------------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn ms(duration: Option<Duration>) -> Json {
    Json::Num(duration.map(|d| d.as_secs_f64() * 1000.0))
}

/// Just enough JSON for one flat-ish line.
enum Json {
    Num(Option<f64>),
    Int(u64),
    Bool(bool),
    Str(String),
    Map(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Num(Some(x)) if x.is_finite() => {
                let _ = write!(out, "{x}");
            }
            Json::Num(_) => out.push_str("null"),
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Json::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(out, "\\u{:04x}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            Json::Map(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    Json::Str(key.clone()).write(out);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn field(key: &str, value: Json) -> (String, Json) {
    (key.to_owned(), value)
}

fn run_one(settings: &Settings, spec: RunSpec, gateway_version: &str) -> Result<Json, String> {
    let (warmup, measure) = if spec.long {
        (LONG_WARMUP, LONG_MEASURE)
    } else {
        (
            settings.warmup(spec.interval),
            settings.measure(spec.interval),
        )
    };
    let name = spec.name();
    let log = settings.out.with_file_name(format!("gateway-{name}.log"));
    let mut args = settings.gateway_args.clone();
    if !spec.check {
        args.push("--push.disable-consistency-check".into());
    }
    let gateway = Gateway::start(&settings.gateway, &args, &log)?;
    let pid = gateway.pid().to_string();
    // Time to start every thread before the common start.
    let lead = Duration::from_millis(500 + spec.jobs as u64);
    let start = Instant::now() + lead;
    let plan = Arc::new(Plan {
        spec,
        gateway: gateway.url(),
        timeout: settings.timeout,
        exposition: Exposition::new(settings.series),
        start,
        start_unix: unix_now() + lead.as_secs_f64(),
        stop: start + warmup + measure,
    });
    let mut body = String::new();
    plan.exposition
        .render(&mut body, 1, plan.start_unix, plan.start_unix, 1.0);
    let body_bytes = body.len();
    let mut handles = Vec::with_capacity(spec.jobs);
    for index in 0..spec.jobs {
        let plan = Arc::clone(&plan);
        let handle = std::thread::Builder::new()
            .name(format!("fleet-job-{index}"))
            .stack_size(JOB_STACK)
            .spawn(move || job(&plan, index))
            .map_err(|e| format!("thread {index} of {}: {e}", spec.jobs))?;
        handles.push(handle);
    }
    if Instant::now() > start {
        eprintln!("fleet {name}: starting the threads took longer than {lead:?}");
    }
    let ticks = clock_ticks();
    // The measurement window: CPU is read at both ends.
    sleep_until(start + warmup);
    let window_start = Instant::now();
    let gateway_before = cpu_ticks(&pid);
    let self_before = cpu_ticks("self");
    let machine_before = machine_busy_ticks();
    sleep_until(start + warmup + measure);
    let window = window_start.elapsed().as_secs_f64();
    let gateway_after = cpu_ticks(&pid);
    let self_after = cpu_ticks("self");
    let machine_after = machine_busy_ticks();
    let cores = |before: Option<u64>, after: Option<u64>| {
        Json::Num(
            before
                .zip(after)
                .map(|(b, a)| a.saturating_sub(b) as f64 / ticks / window),
        )
    };
    let gateway_cpu = cores(gateway_before, gateway_after);
    let self_cpu = cores(self_before, self_after);
    // Everything else the machine did meanwhile (other processes, the kernel's own work).
    let others_cpu = match (
        machine_before.zip(machine_after),
        gateway_before.zip(gateway_after),
        self_before.zip(self_after),
    ) {
        (Some((m0, m1)), Some((g0, g1)), Some((s0, s1))) => {
            let others = (m1 - m0) as f64 - (g1 - g0) as f64 - (s1 - s0) as f64;
            Json::Num(Some(others.max(0.0) / ticks / window))
        }
        _ => Json::Num(None),
    };

    let mut reports = Vec::with_capacity(spec.jobs);
    for handle in handles {
        reports.push(
            handle
                .join()
                .map_err(|_| "a job thread panicked".to_owned())?,
        );
    }
    let drained = (Instant::now() - (start + warmup + measure)).as_secs_f64();
    let gateway_rss = status_mib(&pid, "VmRSS");
    let gateway_hwm = status_mib(&pid, "VmHWM");
    let gateway_counts = gateway.self_metrics();
    drop(gateway);

    let (from, to) = (warmup, warmup + measure);
    let mut latencies = Vec::new();
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    let (mut attempted, mut succeeded) = (0u64, 0u64);
    let (mut all_attempted, mut all_succeeded) = (0u64, 0u64);
    let mut stretches = Vec::new();
    for report in reports {
        for sample in &report.samples {
            all_attempted += 1;
            all_succeeded += u64::from(sample.failure.is_none());
            if sample.started < from || sample.started >= to {
                continue;
            }
            attempted += 1;
            latencies.push(sample.took);
            match &sample.failure {
                None => succeeded += 1,
                Some(kind) => *failures.entry(kind.clone()).or_insert(0) += 1,
            }
        }
        for (kind, message) in report.examples {
            examples.entry(kind).or_insert(message);
        }
        stretches.extend(report.stretch);
    }
    latencies.sort_unstable();
    let failed = attempted - succeeded;
    let seconds = measure.as_secs_f64();
    let stretch_mean =
        (!stretches.is_empty()).then(|| stretches.iter().sum::<f64>() / stretches.len() as f64);
    let stretched =
        (!stretches.is_empty()).then(|| stretches.iter().filter(|s| **s > 1.0).count() as u64);
    let count_map = |map: BTreeMap<String, u64>| {
        Json::Map(map.into_iter().map(|(k, v)| (k, Json::Int(v))).collect())
    };
    Ok(Json::Map(vec![
        field("kind", Json::Str("run".into())),
        field("name", Json::Str(name)),
        field("policy", Json::Str(spec.policy.name().into())),
        field("jobs", Json::Int(spec.jobs as u64)),
        field("interval_s", Json::Num(Some(spec.interval.as_secs_f64()))),
        field("series", Json::Int(plan.exposition.series as u64)),
        field("body_bytes", Json::Int(body_bytes as u64)),
        field("timeout_s", Json::Num(Some(settings.timeout.as_secs_f64()))),
        field("warmup_s", Json::Num(Some(warmup.as_secs_f64()))),
        field("measure_s", Json::Num(Some(seconds))),
        field(
            "offered_per_s",
            Json::Num(Some(spec.jobs as f64 / spec.interval.as_secs_f64())),
        ),
        field("attempted", Json::Int(attempted)),
        field("succeeded", Json::Int(succeeded)),
        field("failed", Json::Int(failed)),
        field("failures", count_map(failures)),
        field(
            "failure_examples",
            Json::Map(
                examples
                    .into_iter()
                    .map(|(k, v)| (k, Json::Str(v.chars().take(200).collect())))
                    .collect(),
            ),
        ),
        field(
            "attempted_per_s",
            Json::Num(Some(attempted as f64 / seconds)),
        ),
        field("pushes_per_s", Json::Num(Some(succeeded as f64 / seconds))),
        field("latency_p50_ms", ms(percentile(&latencies, 0.50))),
        field("latency_p99_ms", ms(percentile(&latencies, 0.99))),
        field("latency_max_ms", ms(latencies.last().copied())),
        field("gateway_cpu_cores", gateway_cpu),
        field("gateway_rss_mib", Json::Num(gateway_rss)),
        field("gateway_peak_rss_mib", Json::Num(gateway_hwm)),
        field("simulator_cpu_cores", self_cpu),
        field("other_cpu_cores", others_cpu),
        field("paced_stretch_mean", Json::Num(stretch_mean)),
        field(
            "paced_jobs_stretched",
            Json::Num(stretched.map(|n| n as f64)),
        ),
        field("run_attempted", Json::Int(all_attempted)),
        field("run_succeeded", Json::Int(all_succeeded)),
        field(
            "gateway_counts",
            Json::Map(
                gateway_counts
                    .into_iter()
                    .map(|(k, v)| (k, Json::Num(Some(v))))
                    .collect(),
            ),
        ),
        field("drain_s", Json::Num(Some(drained))),
        field("gateway_version", Json::Str(gateway_version.into())),
        field("consistency_check", Json::Bool(spec.check)),
        field("gateway_args", Json::Str(args.join(" "))),
    ]))
}

fn gateway_version(binary: &Path) -> Result<String, String> {
    let out = Command::new(binary)
        .arg("--version")
        .output()
        .map_err(|e| {
            format!(
                "{}: {e} (apt-get install -y prometheus-pushgateway)",
                binary.display()
            )
        })?;
    // Go's kingpin prints the version on stderr in older releases, stdout in newer.
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .next()
        .map(|line| line.trim().to_owned())
        .ok_or_else(|| format!("{} --version printed nothing", binary.display()))
}

fn append_line(path: &Path, json: &Json) -> Result<(), String> {
    let mut line = String::new();
    json.write(&mut line);
    line.push('\n');
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn open_files_limit() -> Option<u64> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("fleet: skipped (not run as a benchmark); run bench/fleet.sh");
        return;
    }
    if let Err(error) = suite() {
        eprintln!("fleet: {error}");
        std::process::exit(1);
    }
}

fn suite() -> Result<(), String> {
    let settings = Settings::from_env()?;
    let version = gateway_version(&settings.gateway)?;
    if let Some(dir) = settings.out.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::write(&settings.out, "").map_err(|e| format!("{}: {e}", settings.out.display()))?;
    let began = Instant::now();
    let limit = open_files_limit();
    let most_jobs = settings.runs.iter().map(|r| r.jobs).max().unwrap_or(0) as u64;
    if let Some(limit) = limit
        && limit < most_jobs + 100
    {
        eprintln!("fleet: open files limited to {limit}, below {most_jobs} jobs' connections");
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get() as u64);
    append_line(
        &settings.out,
        &Json::Map(vec![
            field("kind", Json::Str("suite".into())),
            field("gateway_version", Json::Str(version.clone())),
            field("cpus", Json::Int(cpus)),
            field(
                "series",
                Json::Int(Exposition::new(settings.series).series as u64),
            ),
            field("timeout_s", Json::Num(Some(settings.timeout.as_secs_f64()))),
            field("open_files_limit", Json::Num(limit.map(|l| l as f64))),
            field("started_unix", Json::Num(Some(unix_now()))),
        ]),
    )?;
    println!(
        "fleet: {} runs against {version}, results in {}",
        settings.runs.len(),
        settings.out.display()
    );
    for spec in settings.runs.iter().copied() {
        let run_began = Instant::now();
        let result = run_one(&settings, spec, &version)?;
        append_line(&settings.out, &result)?;
        let mut line = String::new();
        result.write(&mut line);
        println!(
            "fleet: {}: done in {:.0} s\n  {line}",
            spec.name(),
            run_began.elapsed().as_secs_f64()
        );
    }
    append_line(
        &settings.out,
        &Json::Map(vec![
            field("kind", Json::Str("end".into())),
            field("total_s", Json::Num(Some(began.elapsed().as_secs_f64()))),
        ]),
    )?;
    println!(
        "fleet: suite done in {:.0} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}
