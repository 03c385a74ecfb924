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

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
