//! The final push when the process ends, with the process's exit status where the C library
//! tells it.
//!
//! Rust runs no destructors for statics, so the only hook that sees every way a job ends is
//! the C library's exit handlers: they run when `main` returns, on `std::process::exit(n)`,
//! and when a panic unwinds out of `main` (the runtime turns that into exit code 101 and calls
//! `exit`). The exit code is not touched. They do not run on `abort`, on `panic = "abort"`, or
//! when the process is killed by a signal.
//!
//! glibc's `on_exit` hands its handler the status given to `exit` (0 when `main` returned
//! `()` or `Ok`, 1 for `Err`, 101 for a panic, `n` for `exit(n)`); elsewhere `atexit` knows
//! no status, and the job must say it with [`crate::set_exit_code`].
#![allow(unsafe_code)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// What runs at exit: the final push, handed over by the runtime (so this module needs nothing
/// of the rest of the crate). It gets the exit code, when known.
static HOOK: OnceLock<fn(Option<i32>)> = OnceLock::new();

/// The C library refused the registration made before `main` (reported by [`install`]).
static EARLY_REFUSED: AtomicBool = AtomicBool::new(false);

/// Registers `hook` to run at exit; called when the push thread starts. A no-op when it was
/// registered before `main` already, but for reporting a refusal then (nothing may log before
/// `main`).
pub(crate) fn install(hook: fn(Option<i32>)) {
    if HOOK.set(hook).is_err() {
        if !EARLY_REFUSED.swap(false, Ordering::Relaxed) {
            return;
        }
    } else if platform::register() {
        return;
    }
    crate::diagnostics::warn(
        "cannot register the exit hook; call pushtimer::flush() before exiting",
    );
}

/// Registers `hook` before `main` (see `startup.rs`): silent, a refusal is reported by
/// [`install`] later.
pub(crate) fn register_early(hook: fn(Option<i32>)) {
    if HOOK.set(hook).is_ok() && !platform::register() {
        EARLY_REFUSED.store(true, Ordering::Relaxed);
    }
}

/// Runs inside `exit()`. A panic must not unwind into C (that aborts the process and loses the
/// exit code), so it is caught here.
fn run(status: Option<i32>) {
    if let Some(hook) = HOOK.get() {
        // The parent sees the low 8 bits of the status: `exit(256)` is a success.
        let code = status.map(|status| status & 0xff);
        let _ = std::panic::catch_unwind(|| hook(code));
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod platform {
    use std::os::raw::{c_int, c_void};

    // SAFETY: glibc's `on_exit`, with exactly this signature (stdlib.h).
    unsafe extern "C" {
        fn on_exit(callback: extern "C" fn(c_int, *mut c_void), argument: *mut c_void) -> c_int;
    }

    pub(super) fn register() -> bool {
        // SAFETY: `with_status` is a plain `extern "C"` function that lives for the whole
        // program and never unwinds (`run` catches panics); the argument is unused.
        unsafe { on_exit(with_status, std::ptr::null_mut()) == 0 }
    }

    extern "C" fn with_status(status: c_int, _: *mut c_void) {
        super::run(Some(status));
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod platform {
    use std::os::raw::c_int;

    // SAFETY: `atexit` is part of every C library Rust's std links on unix and Windows, with
    // exactly this signature.
    unsafe extern "C" {
        fn atexit(callback: extern "C" fn()) -> c_int;
    }

    pub(super) fn register() -> bool {
        // SAFETY: `without_status` is a plain `extern "C" fn()` that lives for the whole
        // program and never unwinds (`run` catches panics).
        unsafe { atexit(without_status) == 0 }
    }

    extern "C" fn without_status() {
        super::run(None);
    }
}
