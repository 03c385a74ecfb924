//! The one way a test is skipped: visibly, and never in CI.
//!
//! A test that cannot run here (a server binary, `openssl` or `unshare -n` missing) calls
//! [`skip`] and returns. The line goes to the stderr handle, not through `eprintln!`, which the
//! test harness captures and hides for passing tests: a skip must be seen. With
//! `PUSHTIMER_REQUIRE_PUSHGATEWAY=1` (set by `.ci/run`, whose machine has everything) a skip is
//! a failure instead, so CI can never pass a test that did not run.

use std::io::Write;

/// The variable that turns every skip into a failure.
pub const REQUIRE_VARIABLE: &str = "PUSHTIMER_REQUIRE_PUSHGATEWAY";

/// Whether skips are failures here (`PUSHTIMER_REQUIRE_PUSHGATEWAY=1`).
pub fn skips_are_failures() -> bool {
    std::env::var_os(REQUIRE_VARIABLE).is_some_and(|v| v == "1")
}

/// Says visibly that `test` is skipped because of `why` (and what would let it run, `remedy`);
/// panics instead when [`skips_are_failures`]. The caller returns after it.
pub fn skip(test: &str, why: &str, remedy: &str) {
    assert!(
        !skips_are_failures(),
        "{test} cannot run: {why}, and {REQUIRE_VARIABLE}=1 requires it ({remedy})"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why} ({remedy})");
}
