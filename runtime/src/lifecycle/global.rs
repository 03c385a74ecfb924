//! The process-wide state: configuration, registry and background pusher, created once.
//!
//! Creating the runtime (inside a `OnceLock` initialiser) reads the environment and nothing
//! else: no file, no TLS library, no logging, so nothing in it can call back into user code (a
//! logger that is itself timed would re-enter the initialiser and deadlock). What can call out
//! (reading certificate files, whose parser may log; starting the thread; reporting problems)
//! happens in [`Runtime::start`], after the initialiser, guarded by a flag instead of a lock.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::destinations;
use crate::diagnostics::{self, Note};
use crate::error::PushError;
use crate::push::lanes::Lanes;
#[cfg(feature = "internals")]
use crate::push::lanes::PushThreadStats;
use crate::settings::checked::PushSettings;
use crate::settings::config::Config;
use crate::store::families::{Core, Shape};
use crate::store::registry::{CallSiteId, Registry};
use crate::store::run::Run;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

thread_local! {
    /// This thread is inside [`Runtime::start`] (a logger it called may be calling back).
    static STARTING: Cell<bool> = const { Cell::new(false) };
}

pub(crate) struct Runtime {
    pub(crate) registry: Registry,
    /// What `start` needs: the pushing settings and the problems found so far. Taken once.
    pending: Mutex<Option<(PushSettings, Vec<String>)>>,
    /// The pusher, or why there is none; set by `start`.
    pushing: OnceLock<Result<Lanes, PushError>>,
    started: AtomicBool,
    /// The process that made the runtime (and whose thread pushes): a `fork()` child inherits
    /// the runtime but not the thread.
    pid: u32,
}

/// [`Config::install`] came too late: the configuration was already fixed, by an earlier
/// `install` or by the first timed call reading the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyInstalled;

impl fmt::Display for AlreadyInstalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "pushtimer is already configured: install the Config before the first timed call",
        )
    }
}

impl std::error::Error for AlreadyInstalled {}

/// The runtime, created from the environment on first use, and started.
pub(crate) fn runtime() -> &'static Runtime {
    let runtime = created();
    runtime.start();
    runtime
}

/// The runtime, created from the environment on first use, not started: what a call site
/// needs to register its series, during which nothing may call out (see `reentry.rs`).
pub(crate) fn created() -> &'static Runtime {
    crate::store::reentry::get_or_set_up(&RUNTIME, || Runtime::new(Config::from_env()))
}

impl Config {
    /// Makes this the configuration of the process. It must come before the first timed call
    /// (or [`render`](crate::render), [`flush`](crate::flush), [`Summary`](crate::Summary)),
    /// which otherwise read the environment and fix the configuration for good.
    pub fn install(self) -> Result<(), AlreadyInstalled> {
        let mut config = Some(self);
        let runtime = crate::store::reentry::get_or_set_up(&RUNTIME, || {
            Runtime::new(config.take().unwrap_or_default())
        });
        if config.is_some() {
            return Err(AlreadyInstalled);
        }
        runtime.start();
        Ok(())
    }
}

/// See [`crate::flush`].
pub(crate) fn flush() -> Result<(), PushError> {
    let runtime = runtime();
    runtime.forked()?;
    match runtime.pushing() {
        Some(Ok(pusher)) => pusher.flush(&runtime.registry),
        Some(Err(why)) => Err(why.clone()),
        None => Err(PushError::Transport {
            reason: "pushtimer is still starting (flush() was called from inside its start-up, \
                     e.g. by a logger)"
                .into(),
        }),
    }
}

/// The last act at process exit (the final push, or the group's deletion): only when the
/// runtime exists, i.e. something was timed or rendered. In a `fork()` child it is skipped at
/// once, touching no lock: the parent's threads may have held any of them at the fork.
pub(crate) fn final_push(exit_code: Option<i32>) {
    let Some(runtime) = RUNTIME.get() else {
        return;
    };
    let Some(Ok(pusher)) = runtime.pushing.get() else {
        return;
    };
    match runtime.forked() {
        Ok(()) => pusher.finish(&runtime.registry, exit_code.or_else(reported_exit_code)),
        Err(forked) => diagnostics::warn_after_fork(&forked.to_string()),
    }
}

/// The exit hook registered before `main` (see `startup.rs`): a run that ends before its first
/// timed call makes the runtime now, so the run is recorded with its exit code.
pub(crate) fn at_exit(exit_code: Option<i32>) {
    runtime();
    final_push(exit_code);
}

/// A SIGTERM or SIGINT arrived (see `signals.rs`; called on its thread, not in the handler).
/// Alone, pushtimer makes the final push and ends the process by the signal; with a handler of
/// the application on top, it pushes what it has and leaves the shutdown to the application.
fn on_signal(signal: i32, alone: bool) {
    if alone {
        final_push(Some(128_i32.saturating_add(signal)));
        crate::lifecycle::signals::die(signal);
    } else if let Some(runtime) = RUNTIME.get()
        && runtime.forked().is_ok()
        && let Some(Ok(pusher)) = runtime.pushing.get()
    {
        let _ = pusher.flush(&runtime.registry);
    }
}

/// The exit code the job reported with [`crate::set_exit_code`], if any.
static REPORTED_EXIT_CODE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// See [`crate::set_exit_code`].
pub(crate) fn set_exit_code(code: i32) {
    REPORTED_EXIT_CODE.store(code & 0xff, Ordering::Relaxed);
}

fn reported_exit_code() -> Option<i32> {
    let code = REPORTED_EXIT_CODE.load(Ordering::Relaxed);
    (code >= 0).then_some(code)
}

/// What the push thread did so far; `None` when nothing is pushed.
#[cfg(feature = "internals")]
pub(crate) fn push_thread_stats() -> Option<PushThreadStats> {
    RUNTIME
        .get()
        .and_then(|runtime| runtime.pushing.get())
        .and_then(|pushing| pushing.as_ref().ok())
        .map(Lanes::stats)
}

impl Runtime {
    /// Checks the configuration's values; touches nothing outside the process.
    fn new(config: Config) -> Self {
        let parts = config.into_parts();
        Runtime {
            registry: Registry::new(
                parts.naming.clone(),
                Run::new(parts.naming.labels, parts.expected_interval)
                    .started_at(crate::lifecycle::startup::program_start())
                    .with_version(parts.version),
            ),
            pending: Mutex::new(Some((parts.pushing, parts.problems))),
            pushing: OnceLock::new(),
            started: AtomicBool::new(false),
            pid: std::process::id(),
        }
    }

    /// The series of `shape` for `name` and labels, for a `#[timed]` function at `call_site`
    /// or made by hand (see [`Registry::series`]). In a `fork()` child, which never pushes, a
    /// series of its own that no registry knows: the parent's push thread may have held the
    /// registry's lock at the fork, and nobody would ever release it here.
    pub(crate) fn series(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        shape: &Shape,
        call_site: Option<CallSiteId>,
    ) -> (Core, Vec<Note>) {
        match self.forked() {
            Ok(()) => self.registry.series(name, help, labels, shape, call_site),
            Err(_) => (shape.leak(name), Vec::new()),
        }
    }

    /// `Err(Forked)` when this process is not the one that made the runtime.
    fn forked(&self) -> Result<(), PushError> {
        if std::process::id() == self.pid {
            Ok(())
        } else {
            Err(PushError::Forked { parent: self.pid })
        }
    }

    /// The pusher once started: waits for a start under way on another thread (it only reads
    /// a few files); `None` on the starting thread itself, which cannot wait for itself.
    fn pushing(&self) -> Option<&Result<Lanes, PushError>> {
        self.pushing.get().or_else(|| {
            if STARTING.with(Cell::get) {
                None
            } else {
                Some(self.pushing.wait())
            }
        })
    }

    /// Builds the pusher (reading its files), starts the push thread and the exit hook, and
    /// reports the settings problems, once. Not a `Once`: a logger that itself calls a timed
    /// function comes back here and must return at once, not wait for itself.
    pub(crate) fn start(&'static self) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some((settings, mut problems)) = pending else {
            return;
        };
        STARTING.with(|starting| starting.set(true));
        let (pushing, more) = destinations::build(&settings);
        problems.extend(more);
        let pushing = self.pushing.get_or_init(|| pushing);
        if let Ok(lanes) = pushing {
            lanes.spawn(&self.registry);
            crate::lifecycle::exit_hook::install(final_push);
            if lanes.signals
                && let Err(error) = crate::lifecycle::signals::install(on_signal)
            {
                problems.push(format!("no final push on SIGTERM or SIGINT: {error}"));
            }
        }
        STARTING.with(|starting| starting.set(false));
        for problem in problems {
            diagnostics::warn(problem);
        }
    }
}
