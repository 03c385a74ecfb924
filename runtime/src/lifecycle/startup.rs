//! What runs when the program starts, before `main`: an ELF constructor (the `.init_array`
//! entry the C runtime calls at start-up, as the `ctor` crate makes), on Linux.
//!
//! It records when the program itself started (under `cargo run`, which `exec`s the job, the
//! process started when cargo did, so the kernel's start time would include the compile), and,
//! when a destination is configured, registers the exit hook at once: a run that ends before
//! its first timed call (bad configuration, a missing input: where most real failures happen)
//! is still recorded, with its exit code. It starts no thread, does no I/O and logs nothing:
//! one clock read, three environment lookups and, at most, one `on_exit` registration. Elsewhere
//! the run counts from pushtimer's first use, and the exit hook is registered then.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time the program started, in nanoseconds; 0 until the constructor ran.
static STARTED_NANOS: AtomicU64 = AtomicU64::new(0);

/// Unix time the program started, when the constructor ran.
pub(crate) fn program_start() -> Option<f64> {
    let nanos = STARTED_NANOS.load(Ordering::Relaxed);
    // Nanoseconds to seconds: 2^64 ns is 584 years, so the f64 keeps a microsecond here.
    (nanos > 0).then(|| nanos as f64 / 1e9)
}

/// The constructor's body: safe Rust, callable from the unit tests too.
fn at_start() {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        });
    STARTED_NANOS.store(nanos, Ordering::Relaxed);
    let configured = |name| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    // The destinations that record a run's end (`PUSHTIMER_LISTEN` serves only while the job
    // runs: an early end has nothing to serve).
    let records_the_end = [
        crate::settings::env::URL,
        crate::settings::env::REMOTE_WRITE_URL,
        crate::settings::env::TEXTFILE,
    ];
    if records_the_end.into_iter().any(configured) {
        crate::lifecycle::exit_hook::register_early(crate::lifecycle::global::at_exit);
    }
}

#[cfg(target_os = "linux")]
mod constructor {
    /// The entry the C runtime calls before `main` (and the dynamic loader when a library is
    /// loaded). `#[used]` keeps it in the object file, which the linker takes with the rest of
    /// this module: `program_start` above, which the registry reads, is in the same one.
    // SAFETY: `.init_array` holds plain `extern "C" fn()` pointers called once at start-up;
    // `run` is one, never unwinds (`at_start` cannot panic: no indexing, no unwrap, and the
    // environment lookups and `on_exit` fail without panicking) and needs nothing of `main`.
    #[used]
    #[unsafe(link_section = ".init_array")]
    static AT_START: extern "C" fn() = run;

    extern "C" fn run() {
        super::at_start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_constructor_ran_before_the_tests() {
        let start = program_start().expect("recorded before main");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs_f64())
            .unwrap_or(0.0);
        assert!(start <= now && start > now - 3600.0, "{start} vs {now}");
    }
}
