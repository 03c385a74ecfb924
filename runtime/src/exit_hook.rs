//! The final push when the process ends.
//!
//! Rust runs no destructors for statics, so the only hook that sees every way a job ends is
//! the C library's `atexit`: it runs when `main` returns, on `std::process::exit(n)`, and when a
//! panic unwinds out of `main` (the runtime turns that into exit code 101 and calls `exit`).
//! The exit code is not touched. It does not run on `abort`, on `panic = "abort"`, or when the
//! process is killed by a signal.
#![allow(unsafe_code)]

use std::os::raw::c_int;
use std::sync::OnceLock;

// SAFETY: `atexit` is part of every C library Rust's std links on unix and Windows, with
// exactly this signature.
unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> c_int;
}

/// What runs at exit: the final push, handed over by the runtime (so this module needs nothing
/// of the rest of the crate).
static HOOK: OnceLock<fn()> = OnceLock::new();

/// Registers `hook` to run at exit; called once, when the push thread starts.
pub(crate) fn install(hook: fn()) {
    if HOOK.set(hook).is_err() {
        return;
    }
    // SAFETY: `on_exit` is a plain `extern "C" fn()` that lives for the whole program and never
    // unwinds (see below); registering it has no other precondition.
    let status = unsafe { atexit(on_exit) };
    if status != 0 {
        crate::diagnostics::warn(
            "cannot register the exit hook; call pushtimer::flush() before exiting",
        );
    }
}

/// Runs inside `exit()`. A panic must not unwind into C (that aborts the process and loses the
/// exit code), so it is caught here.
extern "C" fn on_exit() {
    if let Some(hook) = HOOK.get() {
        let _ = std::panic::catch_unwind(hook);
    }
}
