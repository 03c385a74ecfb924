//! The process's life: the runtime created once (settings, registry, lanes), what runs before
//! `main`, and the final push however the process ends (exit handlers, SIGTERM and SIGINT).
//!
//! May use everything below it: `settings`, `store`, `push` and `destinations`.

pub(crate) mod exit_hook;
pub(crate) mod global;
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
))]
pub(crate) mod signals;
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
#[path = "signals_unsupported.rs"]
pub(crate) mod signals;
pub(crate) mod startup;
