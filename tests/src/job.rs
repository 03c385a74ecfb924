//! Child jobs: the job binaries run as separate processes in a clean pushtimer environment,
//! with their output collected ([`JobRun`]), and the stderr logger those binaries install.

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    /// The stderr lines that are pushtimer's warnings, as the user sees them: logged through
    /// the job's logger (`WARN pushtimer ...`, see [`init_stderr_logger`]) or, with no logger
    /// installed, written by pushtimer itself (`pushtimer: warning: ...`).
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("WARN pushtimer") || l.starts_with("pushtimer: warning:"))
            .collect()
    }
}

/// How long a child job may run before the test gives up on it.
pub const JOB_LIMIT: Duration = Duration::from_secs(60);

/// Runs `binary args` with `env` set on top of a clean pushtimer environment (no inherited
/// `PUSHGATEWAY_*`/`PUSHTIMER_*`, no proxies), waits at most [`JOB_LIMIT`]. `env` is applied
/// after that clean-up, so a proxy variable given there is set on purpose (`tests/identity.rs`).
pub fn run_job(binary: &str, args: &[&str], env: &[(&str, &str)]) -> JobRun {
    spawn_job(binary, args, env).wait()
}

/// Runs `exit_job <how> 5` (`binary` is its path) against `url` as `job` with an hour's push
/// interval, so that what reaches the gateway can only come from the final push at exit, and a
/// 2 s push deadline, so that a transport failure costs the job little time.
pub fn run_final_push(
    binary: &str,
    url: &str,
    job: &str,
    how: &str,
    extra: &[(&str, &str)],
) -> JobRun {
    let mut env = vec![
        ("PUSHGATEWAY_URL", url),
        ("PUSHGATEWAY_JOB", job),
        ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
        ("PUSHGATEWAY_TIMEOUT", "2s"),
    ];
    env.extend_from_slice(extra);
    run_job(binary, &[how, "5"], &env)
}

/// [`run_job`] with values that need not be UTF-8 (a value made of raw bytes with
/// `std::os::unix::ffi::OsStrExt::from_bytes`, say).
pub fn run_job_os(binary: &str, args: &[&str], env: &[(&str, &OsStr)]) -> JobRun {
    spawn_with(binary, args, env.iter().copied()).wait()
}

/// Starts a job like [`run_job`] but returns at once, so the test can act while it runs.
pub fn spawn_job(binary: &str, args: &[&str], env: &[(&str, &str)]) -> RunningJob {
    spawn_with(
        binary,
        args,
        env.iter().map(|(name, value)| (*name, OsStr::new(value))),
    )
}

fn spawn_with<'a>(
    binary: &str,
    args: &[&str],
    env: impl Iterator<Item = (&'a str, &'a OsStr)>,
) -> RunningJob {
    let mut command = Command::new(binary);
    command.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("PUSHGATEWAY_")
            || name.starts_with("PUSHTIMER_")
            || name == "JOB_COMPLETION_INDEX"
            || name.to_ascii_lowercase().ends_with("_proxy")
        {
            command.env_remove(name);
        }
    }
    command.envs(env);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("cannot start the job binary");
    let stdout = Drained::start(child.stdout.take());
    let stderr = Drained::start(child.stderr.take());
    RunningJob {
        child,
        started,
        stdout,
        stderr,
    }
}

/// One of a job's output pipes, read to its end by a thread of its own as the job writes, so
/// that a chatty job never blocks on a full pipe.
struct Drained {
    /// What was read so far (a test may look while the job runs).
    text: Arc<Mutex<String>>,
    /// The reading thread; it ends when the pipe closes, i.e. when the job has ended.
    reader: Option<JoinHandle<()>>,
}

impl Drained {
    fn start(pipe: Option<impl Read + Send + 'static>) -> Drained {
        let text = Arc::new(Mutex::new(String::new()));
        let reader = pipe.map(|mut pipe| {
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
            })
        });
        Drained { text, reader }
    }

    fn contains(&self, needle: &str) -> bool {
        self.text.lock().expect("output lock").contains(needle)
    }

    /// Everything the pipe carried: waits for the reader to reach its end (the job has ended,
    /// so the pipe is closed) instead of guessing how long that takes.
    fn finish(mut self) -> String {
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the output reader panicked");
        }
        self.text.lock().expect("output lock").clone()
    }
}

/// A job started with [`spawn_job`].
pub struct RunningJob {
    child: Child,
    started: Instant,
    stdout: Drained,
    stderr: Drained,
}

impl RunningJob {
    /// The job's process id (to send it a signal).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends the job a signal by name (`TERM`, `INT`, `KILL`) with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let sent = std::process::Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(sent.success(), "kill -{name} failed");
    }

    /// Waits until the job's stderr contains `needle`, at most `within`; false if it did not.
    pub fn wait_for_stderr(&self, needle: &str, within: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < within {
            if self.stderr.contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Ends a `promise_job until <stop>` job by creating its stop file `stop`: it must exit 0.
    /// Returns the run and the calls it made (its `calls=` line).
    pub fn stop_until(self, stop: &std::path::Path) -> (JobRun, f64) {
        std::fs::write(stop, "").expect("the stop file");
        let run = self.wait();
        assert_eq!(run.status.code(), Some(0), "{run:#?}");
        let calls = run
            .stdout
            .lines()
            .find_map(|line| line.strip_prefix("calls="))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("calls= not printed: {run:#?}"));
        (run, calls)
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
        JobRun {
            status,
            elapsed: self.started.elapsed(),
            stdout: self.stdout.finish(),
            stderr: self.stderr.finish(),
        }
    }
}

/// Runs `each` on every one of `cases` at once, each on a thread of its own, and returns what
/// each gave, in the order of `cases`. For independent cases of one test that mostly wait (on a
/// push deadline, a `Retry-After`, a job's run), so that the test waits once rather than once
/// per case. A case that panics fails the test with its own message, once every case has ended.
pub fn in_parallel<C: Sync, R: Send>(cases: &[C], each: impl Fn(&C) -> R + Sync) -> Vec<R> {
    let each = &each;
    let ended: Vec<std::thread::Result<R>> = std::thread::scope(|scope| {
        let threads: Vec<_> = cases
            .iter()
            .map(|case| scope.spawn(move || each(case)))
            .collect();
        threads.into_iter().map(|thread| thread.join()).collect()
    });
    ended
        .into_iter()
        .map(|result| result.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        .collect()
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
