//! The process-wide state: configuration, registry and background pusher, created once.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::background::BackgroundPusher;
use crate::config::Config;
use crate::error::PushError;
use crate::registry::Registry;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

pub(crate) struct Runtime {
    pub(crate) registry: Registry,
    /// The pusher, or why there is none.
    pushing: Result<BackgroundPusher, PushError>,
    /// Settings problems, logged once when the runtime starts.
    problems: Vec<String>,
    started: AtomicBool,
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

/// The runtime, created from the environment on first use.
pub(crate) fn runtime() -> &'static Runtime {
    let runtime = RUNTIME.get_or_init(|| Runtime::new(Config::from_env()));
    runtime.start();
    runtime
}

pub(crate) fn install(config: Config) -> Result<(), AlreadyInstalled> {
    let mut config = Some(config);
    let runtime = RUNTIME.get_or_init(|| Runtime::new(config.take().unwrap_or_default()));
    if config.is_some() {
        return Err(AlreadyInstalled);
    }
    runtime.start();
    Ok(())
}

/// See [`crate::flush`].
pub(crate) fn flush() -> Result<(), PushError> {
    let runtime = runtime();
    match &runtime.pushing {
        Ok(pusher) => pusher.flush(&runtime.registry),
        Err(why) => Err(why.clone()),
    }
}

/// The last act at process exit (the final push, or the group's deletion): only when the
/// runtime exists, i.e. something was timed or rendered.
pub(crate) fn final_push() {
    if let Some(runtime) = RUNTIME.get()
        && let Ok(pusher) = &runtime.pushing
    {
        pusher.finish(&runtime.registry);
    }
}

impl Runtime {
    fn new(mut config: Config) -> Self {
        let naming = config.naming();
        let pushing = match config.pusher() {
            Ok(Some(pusher)) => Ok(BackgroundPusher::new(
                pusher,
                config.push_interval,
                config.method,
                config.delete_on_exit,
            )),
            Ok(None) => Err(PushError::NotConfigured),
            Err(error) => Err(error),
        };
        let mut problems = std::mem::take(&mut config.problems);
        if let Err(error @ PushError::InvalidConfig { .. }) = &pushing {
            problems.push(format!("{error}; nothing will be pushed"));
        }
        Runtime {
            registry: Registry::new(naming),
            pushing,
            problems,
            started: AtomicBool::new(false),
        }
    }

    /// Logs the settings problems and starts the push thread, once. Not a `Once`: a logger
    /// that itself calls a timed function must not deadlock here.
    fn start(&'static self) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        for problem in &self.problems {
            log::warn!("pushtimer: {problem}");
        }
        if let Ok(pusher) = &self.pushing {
            pusher.spawn(&self.registry);
            crate::exit_hook::install();
        }
    }
}
