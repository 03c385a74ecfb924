//! A timed function in a library crate (this harness), for `tests/version.rs`: cargo compiles
//! it without `CARGO_BIN_NAME`, so its crate's version must never be taken for the program's.

/// One step of a library's work.
#[pushtimer::timed(name = "version_library_step")]
pub fn library_step(n: u64) -> u64 {
    std::hint::black_box(n)
}
