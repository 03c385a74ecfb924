//! Platforms without `sigaction`: no final push on a termination signal (the exit hook still
//! runs when the job exits normally).

/// Nothing to install here.
pub(crate) fn install(_on_signal: fn(i32, bool)) -> Result<(), String> {
    Ok(())
}

/// Not reached: no signal is taken.
pub(crate) fn die(signal: i32) {
    std::process::exit(128_i32.saturating_add(signal));
}
