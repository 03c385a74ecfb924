//! The process-wide state: configuration, registry and background pusher, created once.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::background::{BackgroundPusher, PushThreadStats};
use crate::config::Config;
use crate::diagnostics;
use crate::diagnostics::Note;
use crate::error::PushError;
use crate::registry::{CallSiteId, Registry};
use crate::summary::SummaryCore;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

pub(crate) struct Runtime {
    pub(crate) registry: Registry,
    /// The pusher, or why there is none.
    pushing: Result<BackgroundPusher, PushError>,
    /// Settings problems, reported once when the runtime starts.
    problems: Vec<String>,
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

/// The runtime, created from the environment on first use. The initialiser logs nothing and
/// calls no user code; what there is to report is reported by `start`, after it.
pub(crate) fn runtime() -> &'static Runtime {
    let runtime = RUNTIME.get_or_init(|| Runtime::new(Config::from_env()));
    runtime.start();
    runtime
}

impl Config {
    /// Makes this the configuration of the process. It must come before the first timed call
    /// (or [`render`](crate::render), [`flush`](crate::flush), [`Summary`](crate::Summary)),
    /// which otherwise read the environment and fix the configuration for good.
    pub fn install(self) -> Result<(), AlreadyInstalled> {
        let mut config = Some(self);
        let runtime = RUNTIME.get_or_init(|| Runtime::new(config.take().unwrap_or_default()));
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
    match &runtime.pushing {
        Ok(pusher) => pusher.flush(&runtime.registry),
        Err(why) => Err(why.clone()),
    }
}

/// The last act at process exit (the final push, or the group's deletion): only when the
/// runtime exists, i.e. something was timed or rendered. In a `fork()` child it is skipped at
/// once, touching no lock: the parent's threads may have held any of them at the fork.
pub(crate) fn final_push() {
    let Some(runtime) = RUNTIME.get() else {
        return;
    };
    let Ok(pusher) = &runtime.pushing else {
        return;
    };
    match runtime.forked() {
        Ok(()) => pusher.finish(&runtime.registry),
        Err(forked) => diagnostics::warn_after_fork(&forked.to_string()),
    }
}

/// What the push thread did so far; `None` when nothing is pushed.
pub(crate) fn push_thread_stats() -> Option<PushThreadStats> {
    RUNTIME
        .get()
        .and_then(|runtime| runtime.pushing.as_ref().ok())
        .map(BackgroundPusher::stats)
}

impl Runtime {
    fn new(config: Config) -> Self {
        let parts = config.into_parts();
        Runtime {
            registry: Registry::new(parts.naming),
            pushing: parts.pushing.map(BackgroundPusher::new),
            problems: parts.problems,
            started: AtomicBool::new(false),
            pid: std::process::id(),
        }
    }

    /// The series for `name` and labels (see [`Registry::summary`]). In a `fork()` child, which
    /// never pushes, a series of its own that no registry knows: the parent's push thread may
    /// have held the registry's lock at the fork, and nobody would ever release it here.
    pub(crate) fn summary(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        call_site: Option<CallSiteId>,
    ) -> (&'static SummaryCore, Vec<Note>) {
        match self.forked() {
            Ok(()) => self.registry.summary(name, help, labels, call_site),
            Err(_) => (SummaryCore::leak(name), Vec::new()),
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

    /// Reports the settings problems and starts the push thread, once. Not a `Once`: a logger
    /// that itself calls a timed function must not deadlock here.
    fn start(&'static self) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok(pusher) = &self.pushing {
            pusher.spawn(&self.registry);
            crate::exit_hook::install(final_push);
        }
        for problem in &self.problems {
            diagnostics::warn(problem.clone());
        }
    }
}
