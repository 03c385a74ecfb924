//! Test support: a real Pushgateway on a free loopback port, a scraper that parses what it
//! exposes, a child-process runner, and a plain stderr logger for the job binaries.
//!
//! When the `prometheus-pushgateway` binary is missing, [`Gateway::start`] returns `None` and
//! says on stderr that the test was skipped and why; with `PUSHTIMER_REQUIRE_PUSHGATEWAY=1`
//! (set by `.ci/run`) its absence fails the test instead.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod tls;

/// How long a Pushgateway may take to become ready.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A `prometheus-pushgateway` child process on `127.0.0.1:<free port>`, without persistence.
/// Killed on drop.
pub struct Gateway {
    child: Child,
    port: u16,
    binary: PathBuf,
    args: Vec<String>,
}

impl Gateway {
    /// Starts a gateway, or returns `None` (after saying so) when the binary is not installed.
    pub fn start(test: &str) -> Option<Gateway> {
        Self::start_with_args(test, &[])
    }

    /// [`start`](Self::start) with extra command-line flags.
    pub fn start_with_args(test: &str, args: &[&str]) -> Option<Gateway> {
        let mut gateway = Self::launch(test, args, None)?;
        gateway.wait_ready();
        Some(gateway)
    }

    /// Starts the binary without waiting for it to be ready (for gateways that are not plain
    /// HTTP: [`tls::SecureGateway`] checks readiness itself). Its stderr goes to `log` when
    /// given, else nowhere. `None` (after saying so) when the binary is not installed.
    pub(crate) fn launch(test: &str, args: &[&str], log: Option<&Path>) -> Option<Gateway> {
        let binary = binary_or_skip(test)?;
        let port = free_port();
        let stderr = match log {
            Some(path) => Stdio::from(
                std::fs::File::create(path)
                    .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display())),
            ),
            None => Stdio::null(),
        };
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let child = spawn_gateway(&binary, port, &args, stderr);
        Some(Gateway {
            child,
            port,
            binary,
            args,
        })
    }

    /// Starts a gateway on a given loopback port (e.g. one a job is already pushing to).
    pub fn start_at(test: &str, port: u16) -> Option<Gateway> {
        let binary = binary_or_skip(test)?;
        let child = spawn_gateway(&binary, port, &[], Stdio::null());
        let mut gateway = Gateway {
            child,
            port,
            binary,
            args: Vec::new(),
        };
        gateway.wait_ready();
        Some(gateway)
    }

    /// Kills the gateway (all it held is lost: it has no persistence) and starts a fresh one on
    /// the same port, waiting until it is ready.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn_gateway(&self.binary, self.port, &self.args, Stdio::null());
        self.wait_ready();
    }

    /// Kills the gateway and waits until it is gone: its port then refuses connections.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The gateway's exit status, if it has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the Pushgateway exited before it was ready: {status}");
            }
            if http_get(&format!("{}/-/ready", self.url())).is_some_and(|(code, _)| code == 200) {
                return;
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "the Pushgateway was not ready within {READY_WITHIN:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the gateway exposes on `/metrics`.
    pub fn scrape(&self) -> Scrape {
        let (code, body) = http_get(&format!("{}/metrics", self.url()))
            .unwrap_or_else(|| panic!("cannot scrape {}", self.url()));
        assert_eq!(code, 200, "scrape answered {code}: {body}");
        Scrape::parse(&body)
    }

    /// Scrapes until `ready` holds for the scrape, at most `within`; returns that scrape.
    /// For pushes made by a background thread: waits on the outcome, not on a guess.
    pub fn scrape_until(&self, within: Duration, ready: impl Fn(&Scrape) -> bool) -> Scrape {
        let started = Instant::now();
        loop {
            let scrape = self.scrape();
            if ready(&scrape) || started.elapsed() > within {
                return scrape;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Pushgateway binary, or `None` after saying visibly that `test` is skipped (a failure
/// instead when `PUSHTIMER_REQUIRE_PUSHGATEWAY=1`).
fn binary_or_skip(test: &str) -> Option<PathBuf> {
    let binary = pushgateway_binary();
    if binary.is_none() {
        if std::env::var_os("PUSHTIMER_REQUIRE_PUSHGATEWAY").is_some_and(|v| v == "1") {
            panic!(
                "{test}: prometheus-pushgateway is not installed, and PUSHTIMER_REQUIRE_PUSHGATEWAY=1 requires it"
            );
        }
        // Written to the stderr handle, not with `eprintln!`, which the test harness captures
        // and hides for passing tests: a skip must be visible.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: the prometheus-pushgateway binary is not installed \
             (apt-get install prometheus-pushgateway, or set PUSHGATEWAY_BIN)"
        );
    }
    binary
}

fn spawn_gateway(binary: &Path, port: u16, args: &[String], stderr: Stdio) -> Child {
    Command::new(binary)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--persistence.file=")
        .arg("--log.level=warn")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()))
}

fn pushgateway_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PUSHGATEWAY_BIN") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .flat_map(|dir| [dir.join("prometheus-pushgateway"), dir.join("pushgateway")])
        .find(|candidate| candidate.is_file())
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free loopback port")
}

/// A plain HTTP GET on loopback: `(status, body)`, or `None` when it could not connect.
pub fn http_get(url: &str) -> Option<(u16, String)> {
    http_request("GET", url, None)
}

/// A plain HTTP request on loopback: `(status, body)`, or `None` when it could not connect.
pub fn http_request(method: &str, url: &str, body: Option<&str>) -> Option<(u16, String)> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(body.unwrap_or("").to_owned())
        .ok()?;
    let mut response = agent.run(request).ok()?;
    let code = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Some((code, text))
}

/// One sample line of the text exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// e.g. `train_seconds_count`
    pub name: String,
    /// Label name to value, unescaped.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// A parsed `/metrics` page.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// Every sample, in page order.
    pub samples: Vec<Sample>,
    /// `# HELP` text by family name, unescaped.
    pub help: BTreeMap<String, String>,
    /// `# TYPE` by family name.
    pub types: BTreeMap<String, String>,
}

impl Scrape {
    /// Parses the text exposition format 0.0.4. Panics on a line it cannot read, so a
    /// malformed exposition fails the test.
    pub fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape::default();
        // Only `\n` ends a line in the text format (`str::lines` would also eat a `\r` that
        // belongs to a HELP text).
        for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                scrape.help.insert(name.to_owned(), unescape(help));
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
                scrape.types.insert(name.to_owned(), kind.to_owned());
            } else if line.starts_with('#') {
                continue;
            } else {
                scrape.samples.push(parse_sample(line));
            }
        }
        scrape
    }

    /// The samples named `name` whose labels include all of `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample named `name` with these labels, if exactly one matches.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.find(name, labels).as_slice() {
            [one] => Some(one.value),
            _ => None,
        }
    }
}

fn parse_sample(line: &str) -> Sample {
    let (name_and_labels, value) = match line.rfind('}') {
        Some(close) => {
            let (head, tail) = line.split_at(close + 1);
            (head, tail.trim())
        }
        None => line
            .split_once(' ')
            .unwrap_or_else(|| panic!("malformed sample line: {line:?}")),
    };
    let value = value.split_whitespace().next().unwrap_or("");
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other
            .parse()
            .unwrap_or_else(|_| panic!("malformed value in {line:?}")),
    };
    let (name, labels) = match name_and_labels.split_once('{') {
        Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'), line)),
        None => (name_and_labels.trim(), BTreeMap::new()),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

fn parse_labels(text: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || *c == ' ') {
            chars.next();
        }
        let name: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if name.is_empty() {
            return labels;
        }
        assert_eq!(chars.next(), Some('='), "malformed labels in {line:?}");
        assert_eq!(chars.next(), Some('"'), "malformed labels in {line:?}");
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("malformed escape in {line:?}"),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => panic!("unterminated label value in {line:?}"),
            }
        }
        labels.insert(name, value);
    }
}

/// Undoes the escaping of a HELP text, left to right: `\\` is a backslash, `\n` a newline;
/// any other backslash (`\"` included: not an escape in HELP) stays as it is.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// What one run of `exit_job ... 5` must leave in the gateway, in the group `job` plus
/// `grouping` (`instance` is `""` unless `grouping` sets it).
pub fn assert_exit_job_complete(scrape: &Scrape, job: &str, grouping: &[(&str, &str)]) {
    let mut group = vec![("job", job)];
    group.extend_from_slice(grouping);
    if !grouping.iter().any(|(name, _)| *name == "instance") {
        group.push(("instance", ""));
    }
    let mut work = group.clone();
    work.push(("stage", "work"));
    assert_eq!(
        scrape.value("exit_job_work_seconds_count", &work),
        Some(5.0),
        "{job}: {scrape:#?}"
    );
    let sum = scrape.value("exit_job_work_seconds_sum", &work);
    assert!(sum.is_some_and(|s| s > 0.0 && s < 5.0), "{job}: {sum:?}");
    assert_eq!(scrape.types["exit_job_work_seconds"], "summary");
    assert_eq!(
        scrape.help["exit_job_work_seconds"],
        "Does one unit of work."
    );
    assert_eq!(scrape.value("upload_seconds_count", &group), Some(1.0));
    assert_eq!(scrape.help["upload_seconds"], "Uploads the result.");
    assert_eq!(
        scrape.value("exit_job_wait_seconds_count", &group),
        Some(5.0)
    );
    assert_eq!(
        scrape.value("exit_job_wait_seconds_sum", &group),
        Some(1.25)
    );
    assert_eq!(
        scrape.help["exit_job_wait_seconds"],
        "Seconds waited, observed by hand."
    );
}

/// The outcome of a child job.
#[derive(Debug)]
pub struct JobRun {
    /// Its exit status.
    pub status: ExitStatus,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr (log lines, panic messages).
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl JobRun {
    /// The stderr lines pushtimer logged as warnings.
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("WARN ") && l.contains("pushtimer"))
            .collect()
    }
}

/// How long a child job may run before the test gives up on it.
pub const JOB_LIMIT: Duration = Duration::from_secs(60);

/// Runs `binary args` with `env` set on top of a clean pushtimer environment (no inherited
/// `PUSHGATEWAY_*`/`PUSHTIMER_*`, no proxies), waits at most [`JOB_LIMIT`].
pub fn run_job(binary: &str, args: &[&str], env: &[(&str, &str)]) -> JobRun {
    spawn_job(binary, args, env).wait()
}

/// Starts a job like [`run_job`] but returns at once, so the test can act while it runs.
pub fn spawn_job(binary: &str, args: &[&str], env: &[(&str, &str)]) -> RunningJob {
    let mut command = Command::new(binary);
    command.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("PUSHGATEWAY_")
            || name.starts_with("PUSHTIMER_")
            || name.to_ascii_lowercase().ends_with("_proxy")
        {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("cannot start the job binary");
    // Pipes are drained as the job writes, so a chatty job never blocks on a full pipe.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    RunningJob {
        child,
        started,
        stdout,
        stderr,
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    if let Some(mut pipe) = pipe {
        let sink = Arc::clone(&text);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let chunk = String::from_utf8_lossy(buffer.get(..n).unwrap_or_default());
                sink.lock().expect("output lock").push_str(&chunk);
            }
        });
    }
    text
}

/// A job started with [`spawn_job`].
pub struct RunningJob {
    child: Child,
    started: Instant,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl RunningJob {
    /// Waits until the job's stderr contains `needle`, at most `within`; false if it did not.
    pub fn wait_for_stderr(&self, needle: &str, within: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < within {
            if self.stderr.lock().expect("output lock").contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Waits for the job to end, at most [`JOB_LIMIT`], and collects what it printed.
    pub fn wait(mut self) -> JobRun {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("cannot wait for the job") {
                break status;
            }
            if self.started.elapsed() > JOB_LIMIT {
                let _ = self.child.kill();
                panic!("the job did not end within {JOB_LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = self.started.elapsed();
        // The pipes close when the job ends; give the drain threads a moment to finish.
        let drained = Instant::now();
        while (Arc::strong_count(&self.stdout) > 1 || Arc::strong_count(&self.stderr) > 1)
            && drained.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let take = |text: &Arc<Mutex<String>>| text.lock().expect("output lock").clone();
        JobRun {
            status,
            stdout: take(&self.stdout),
            stderr: take(&self.stderr),
            elapsed,
        }
    }
}

/// A logger that writes `LEVEL target: message` lines to stderr, for the job binaries.
pub fn init_stderr_logger() {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.level() <= log::Level::Info
        }
        fn log(&self, record: &log::Record<'_>) {
            if self.enabled(record.metadata()) {
                eprintln!("{} {}: {}", record.level(), record.target(), record.args());
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// Runs a future to completion on this thread (std only; the futures in these tests never
/// wait on anything external).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// What a [`FakeGateway`] does with each request.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Accepts the connection and never answers.
    Blackhole,
    /// Answers every request with this status and body.
    Status(u16, &'static str),
    /// Keeps every request (see [`FakeGateway::requests`]) and answers each with 200.
    Record,
    /// Reads each request, then answers 200 only after this long: a slow gateway.
    Slow(Duration),
}

/// One request received by a [`FakeGateway`] started with [`Behaviour::Record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `PUT`, `POST`, `DELETE`, ...
    pub method: String,
    /// The request target, e.g. `/metrics/job/x`.
    pub path: String,
    /// Every header line as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body as sent (still compressed if it was), de-chunked.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A loopback server for what a real Pushgateway cannot be made to do (never answer, answer
/// 503, show the raw requests). Runs until the test process ends.
pub struct FakeGateway {
    port: u16,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl FakeGateway {
    /// Starts one on a free loopback port.
    pub fn start(behaviour: Behaviour) -> FakeGateway {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                let reply = match &behaviour {
                    Behaviour::Blackhole => {
                        held.push(stream);
                        continue;
                    }
                    Behaviour::Status(code, body) => Reply {
                        code: *code,
                        body,
                        delay: Duration::ZERO,
                        record: false,
                    },
                    Behaviour::Slow(delay) => Reply {
                        code: 200,
                        body: "",
                        delay: *delay,
                        record: false,
                    },
                    Behaviour::Record => Reply {
                        code: 200,
                        body: "",
                        delay: Duration::ZERO,
                        record: true,
                    },
                };
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || serve(stream, &reply, &recorded));
            }
        });
        FakeGateway { port, requests }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests received so far, in order ([`Behaviour::Record`] only; empty otherwise).
    /// A request is kept before it is answered, so once a job has exited, everything it sent
    /// and saw answered is here.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("recorder poisoned").clone()
    }
}

/// How a fake answers each request on a connection.
struct Reply {
    code: u16,
    body: &'static str,
    delay: Duration,
    /// Keep the requests (for [`FakeGateway::requests`]).
    record: bool,
}

/// Serves one connection (keep-alive): reads each request whole, keeps it when recording,
/// waits `delay`, answers, until the client closes the connection.
fn serve(stream: std::net::TcpStream, reply: &Reply, requests: &Mutex<Vec<RecordedRequest>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = std::io::BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        if reply.record {
            requests.lock().expect("recorder poisoned").push(request);
        }
        std::thread::sleep(reply.delay);
        let answer = format!(
            "HTTP/1.1 {} Fake\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{}",
            reply.code,
            reply.body.len(),
            reply.body
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 request with its body (by `Content-Length` or chunked); `None` when the
/// connection ends first.
fn read_request(reader: &mut impl std::io::BufRead) -> Option<RecordedRequest> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut request = RecordedRequest {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            if reader.read_line(&mut size).ok()? == 0 {
                return None;
            }
            let size = size.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16).ok()?;
            let mut chunk = vec![0; size + 2]; // the data and its CRLF
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break; // no trailers are sent by the clients under test
            }
            chunk.truncate(size);
            request.body.extend_from_slice(&chunk);
        }
    } else {
        let length = request
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        request.body = vec![0; length];
        reader.read_exact(&mut request.body).ok()?;
    }
    Some(request)
}
