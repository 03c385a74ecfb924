//! A final push when the job is asked to stop: SIGTERM (Kubernetes ending a Job, `kill`) and
//! SIGINT (Ctrl-C).
//!
//! pushtimer takes a signal only when nobody else has it: its disposition is the default
//! (which would kill the process) when pushtimer starts. An ignored signal stays ignored, and
//! a signal the application already handles stays the application's. The handler does only
//! async-signal-safe work: it notes the signal and writes one byte to a pipe; a thread reading
//! that pipe does the rest, outside the handler:
//!
//! - if pushtimer's handler is still the process's handler ("alone"), it makes the final push
//!   (exit code 128 + N) and then ends the process by the same signal, with the default
//!   disposition restored, so the parent sees "killed by signal N" exactly as without
//!   pushtimer; a second signal during that push ends the process at once;
//! - if a handler was installed on top of pushtimer's and chains to it (as `signal-hook` and
//!   `tokio::signal` do), the application has taken over: pushtimer pushes what it has and
//!   leaves the shutdown to the application (its exit then makes the final push as usual).
//!
//! A `fork()` child inherits the handler but not the thread: there the handler restores the
//! default disposition and re-raises the signal, as if pushtimer were not there.
#![allow(unsafe_code)]

use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The signals pushtimer takes.
const SIGNALS: [c_int; 2] = [libc::SIGTERM, libc::SIGINT];

/// The write end of the pipe the handler wakes the thread with.
static PIPE: AtomicI32 = AtomicI32::new(-1);
/// The signal caught (0: none yet).
static CAUGHT: AtomicI32 = AtomicI32::new(0);
/// Whether pushtimer's handler was the process's handler when the signal came.
static ALONE: AtomicBool = AtomicBool::new(false);
/// The process that installed the handler.
static PID: AtomicI32 = AtomicI32::new(0);

/// Takes SIGTERM and SIGINT where their disposition is the default, and calls `on_signal(N,
/// alone)` on a thread of its own when one arrives.
pub(crate) fn install(on_signal: fn(c_int, bool)) -> Result<(), String> {
    let mut fds: [c_int; 2] = [-1, -1];
    // SAFETY: `fds` has room for the two descriptors `pipe` writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    let [read_end, write_end] = fds;
    for fd in fds {
        // SAFETY: `fd` was just opened; FD_CLOEXEC keeps it out of programs the job executes.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    PIPE.store(write_end, Ordering::SeqCst);
    // SAFETY: getpid has no preconditions.
    PID.store(unsafe { libc::getpid() }, Ordering::SeqCst);
    std::thread::Builder::new()
        .name("pushtimer-signals".into())
        .spawn(move || watch(read_end, on_signal))
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    for signal in SIGNALS {
        take_if_default(signal);
    }
    Ok(())
}

/// Installs [`handle`] for `signal` if its disposition is the default (a signal that cannot
/// be taken keeps its disposition: there is nothing to report).
fn take_if_default(signal: c_int) {
    // SAFETY: an all-zero `sigaction` is a valid value to be overwritten by the query.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: querying (null new action) with a valid out pointer.
    if unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) } != 0
        || current.sa_sigaction != libc::SIG_DFL
    {
        return;
    }
    // SAFETY: as above; the fields set below make a plain handler with an empty mask.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handle as extern "C" fn(c_int) as libc::sighandler_t;
    // Interrupted system calls of the job resume: the signal does not end the job by itself.
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid `sigset_t` to initialise; `action` is fully set up.
    unsafe {
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// The signal handler: async-signal-safe calls only (getpid, sigaction, write, raise).
extern "C" fn handle(signal: c_int) {
    let errno = errno::get();
    // SAFETY: getpid has no preconditions.
    if unsafe { libc::getpid() } != PID.load(Ordering::SeqCst) {
        // A fork() child: there is no thread to push; behave as without pushtimer.
        die(signal);
    }
    if CAUGHT.swap(signal, Ordering::SeqCst) != 0 && ALONE.load(Ordering::SeqCst) {
        // A second signal while the final push runs: stop waiting for it.
        die(signal);
    }
    ALONE.store(is_installed(signal), Ordering::SeqCst);
    let byte = 1u8;
    // SAFETY: writes one byte from a valid buffer to the pipe (or fails harmlessly on -1).
    let _ = unsafe { libc::write(PIPE.load(Ordering::SeqCst), (&byte as *const u8).cast(), 1) };
    errno::set(errno);
}

/// True when [`handle`] is the process's handler for `signal` (nobody installed one on top).
fn is_installed(signal: c_int) -> bool {
    // SAFETY: an all-zero `sigaction` is a valid value to be overwritten by the query.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: querying with a valid out pointer.
    let queried = unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) } == 0;
    queried && current.sa_sigaction == handle as extern "C" fn(c_int) as libc::sighandler_t
}

/// Waits on the pipe and hands each signal to `on_signal`, outside the handler.
fn watch(read_end: c_int, on_signal: fn(c_int, bool)) {
    let mut byte = 0u8;
    loop {
        // SAFETY: reads at most one byte into a valid buffer.
        let read = unsafe { libc::read(read_end, (&mut byte as *mut u8).cast(), 1) };
        if read == 1 {
            on_signal(CAUGHT.load(Ordering::SeqCst), ALONE.load(Ordering::SeqCst));
        } else if read == 0
            || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
        {
            return;
        }
    }
}

/// Ends the process by `signal` with its default disposition, as if nobody had handled it.
/// Async-signal-safe.
pub(crate) fn die(signal: c_int) {
    // SAFETY: an all-zero `sigaction` with SIG_DFL (0) and an empty mask is the default
    // disposition; raise has no other precondition. The signal is unblocked first, in case
    // this thread blocks it.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
        let mut unblock: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut unblock);
        libc::sigaddset(&mut unblock, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &unblock, std::ptr::null_mut());
        libc::raise(signal);
    }
}

/// errno, saved and restored around the handler (its `write` may change it).
mod errno {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns this thread's errno; no preconditions.
        unsafe { libc::__errno_location() }
    }

    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns this thread's errno; no preconditions.
        unsafe { libc::__error() }
    }

    pub(super) fn get() -> libc::c_int {
        // SAFETY: `location` points at this thread's errno.
        unsafe { *location() }
    }

    pub(super) fn set(value: libc::c_int) {
        // SAFETY: `location` points at this thread's errno.
        unsafe { *location() = value }
    }
}
