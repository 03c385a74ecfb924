//! The trybuild UI suite of `#[pushtimer::timed]` and `pushtimer::count!`.
//!
//! - `tests/ui/fail/*.rs`: every misuse the macro rejects at compile time (unknown or duplicate
//!   arguments, invalid metric or label names, reserved labels, non-string values, items that
//!   are not functions with a body, `const fn`; for `count!`, a bad name, a float amount, an
//!   unknown option, ...). Each must fail to compile with exactly the
//!   error in the `.stderr` file next to it, pointing at the offending token, and nothing else:
//!   a bad argument leaves the function in place (its callers still compile), and a body with a
//!   syntax error is left untouched, so only the compiler's own error shows.
//! - `tests/ui/pass/*.rs`: function shapes the macro must accept unchanged (early return and `?`,
//!   `async fn`, every kind of `self`, trait impls, generics with where-clauses, `impl Trait`
//!   returns, `unsafe fn`, `#[track_caller]`, raw identifiers, borrowed returns, inner
//!   attributes in the body, `count!` in every expression position and with every integer
//!   type, ...). Each is
//!   compiled under `#![deny(warnings)]`, so the generated code must be warning-free, and run.
//!
//! The `.stderr` files depend on the compiler's exact output. After a toolchain or message
//! change, regenerate them on the dev machine with
//! `TRYBUILD=overwrite cargo test -p pushtimer-macros --test ui` and review the diff.
#![forbid(unsafe_code)]

// The fail and the pass cases are two suites. A suite of fail cases alone is checked in one
// `cargo check --keep-going` of all its cases (a suite that holds a pass case is built one case
// at a time, three cargo runs each), and each case's errors are still compared with its own
// `.stderr`. trybuild runs the two one after the other (it locks its project for each).

#[test]
fn ui_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/fail/*.rs");
}

#[test]
fn ui_pass() {
    trybuild::TestCases::new().pass("tests/ui/pass/*.rs");
}
