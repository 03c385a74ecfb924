//! The corpus: which crates, at which exact version, and why each is here.
//!
//! To add a crate: append an entry (an exact version that is on crates.io, edition 2018 or
//! later, a test suite that needs no network and no nightly), say in `shape` which shape of code
//! it brings that the others do not, and run the corpus with its name to see that the control run
//! passes; configure `features`, `skip` or `pins` only when it does not.

/// One crate of the corpus.
#[derive(Debug)]
pub struct Crate {
    /// The name on crates.io.
    pub name: &'static str,
    /// The exact version, fetched as `=version`.
    pub version: &'static str,
    /// What the crate exercises: the shape of code it is in the corpus for.
    pub shape: &'static str,
    /// Features passed to `cargo test`, on top of the defaults.
    pub features: &'static [&'static str],
    /// Paths, relative to the crate's root, whose `.rs` files are copied but not rewritten (e.g.
    /// trybuild cases whose expected compiler output the attribute would change). A directory
    /// covers everything under it.
    pub skip: &'static [&'static str],
    /// `(package, version)` pairs pinned with `cargo update --precise` after the lockfile is
    /// generated, for a dependency whose newest compatible version breaks the crate's tests.
    pub pins: &'static [(&'static str, &'static str)],
}

/// Every crate of the corpus, in the order they run.
pub const CORPUS: &[Crate] = &[
    // Generic-heavy: parser combinators returning `impl FnMut(I) -> IResult<I, O, E>` with many
    // type parameters and where-clauses, traits implemented for `&str`/`&[u8]` in bulk, and
    // integration tests that are whole parsers (JSON, INI, CSS, arithmetic) written as plain fns.
    Crate {
        name: "nom",
        version: "7.1.3",
        shape: "generic-heavy: combinators returning impl FnMut, many type parameters and bounds",
        features: &[],
        skip: &[],
        pins: &[],
    },
    // Trait-heavy and cfg-gated: `Buf`/`BufMut` with dozens of default methods and impls for
    // `&[u8]`, `VecDeque`, `Chain`, `Take`...; `unsafe fn`s and unsafe trait methods; vtables of
    // `unsafe fn` pointers; `#![no_std]` with `std` and `serde` behind features; loom cfgs.
    Crate {
        name: "bytes",
        version: "1.12.2",
        shape: "trait-heavy (Buf/BufMut default methods), unsafe fns, no_std + cfg(feature)",
        features: &[],
        skip: &[],
        pins: &[],
    },
    // Trait-heavy and macro_rules!-generated: `Either<L, R>` implements Iterator, Read, Write,
    // Future, Deref, Error, Display... for both sides; many methods are one-line `for_both!` or
    // `map_either!` bodies; `#![no_std]` with an optional std.
    Crate {
        name: "either",
        version: "1.19.0",
        shape: "trait impls for a generic enum, macro_rules! in bodies, no_std",
        features: &[],
        skip: &[],
        pins: &[],
    },
    // cfg-gated and macro_rules!-heavy: the logging macros, `#[cfg(feature = "std")]`,
    // `#[cfg(feature = "kv")]` modules and methods, `#[cfg(test)]` modules in almost every file.
    // The `std` and `kv_std` features are on so that the cfg-gated key-value code is compiled and
    // tested too (by default log has no features).
    Crate {
        name: "log",
        version: "0.4.35",
        shape: "cfg-gated (std, kv) code, macro_rules!-heavy, a global logger",
        features: &["std", "kv_std"],
        skip: &[],
        pins: &[],
    },
    // cfg-gated and const-heavy: `#![no_std]` with `std` and `serde` features, cfgs set by a
    // build script for old compilers, `const fn` constructors (skipped by the rewrite) next to
    // the parser's plain fns, `unsafe` pointer-tagged identifiers, Ord/Hash/Display impls.
    Crate {
        name: "semver",
        version: "1.0.28",
        shape: "cfg-gated (no_std, build-script cfgs), const fns skipped beside plain ones, unsafe repr",
        features: &[],
        skip: &[],
        pins: &[],
    },
    // (1.0.103: the newest whose dev-dependencies resolve on the registry this runs against; 1.0.105
    // needs a trybuild that it does not have yet.)
    // macro_rules!-heavy and unsafe: `ensure!`'s tt-muncher, `bail!`/`anyhow!` in almost every
    // test, `?` converting into `anyhow::Error` everywhere, a hand-written vtable of `unsafe fn`s,
    // `#[cfg(backtrace)]`/`#[cfg(std_backtrace)]` probed by a build script.
    Crate {
        name: "anyhow",
        version: "1.0.103",
        shape: "macro_rules!-heavy (ensure!, bail!), `?` into a boxed error, unsafe vtable fns, build-script cfgs",
        features: &[],
        skip: &[],
        pins: &[],
    },
    // async: a proc-macro crate, so only its tests/ are rewritten: hundreds of `async fn`s in
    // traits and in `#[async_trait]` impls (the attribute then sees the method after
    // async-trait's transformation, or before it), generic async methods, `impl Trait` returns,
    // `#[deny(unused_qualifications)]` on the whole test crate. Its trybuild suite is ignored on
    // stable, and so not rewritten either.
    Crate {
        name: "async-trait",
        version: "0.1.92",
        shape: "async fns in #[async_trait] traits and impls (proc-macro crate: tests/ only)",
        features: &[],
        skip: &["tests/ui"],
        pins: &[],
    },
    // async with a real runtime: `#[tokio::test] async fn`s (the attribute above and below
    // tokio's), `Poll`-returning trait methods of AsyncRead/AsyncWrite/Stream impls, pinned
    // self (`self: Pin<&mut Self>`), tokio's paused test clock.
    Crate {
        name: "tokio-test",
        version: "0.4.6",
        shape: "#[tokio::test] async fns, poll_* methods on Pin<&mut Self>",
        features: &[],
        skip: &[],
        pins: &[],
    },
    // Generic-heavy and doctest-heavy: iterator adaptors returning structs with elided lifetimes
    // (`Format<Self>`, the `mismatched_lifetime_syntaxes` warnings must stay the same), doc
    // comments whose last code block is left open (the attribute's Metrics section must not land
    // in it), examples built by `cargo test`.
    Crate {
        name: "itertools",
        version: "0.14.0",
        shape: "iterator adaptors, doc comments ending in an open code block, examples",
        features: &[],
        skip: &[],
        pins: &[],
    },
    // unsafe and union-heavy: `SmallVec`'s inline/heap storage, `unsafe fn`s with raw parts, a
    // doc comment ending in an open code block (a doctest the attribute once broke).
    Crate {
        name: "smallvec",
        version: "1.13.2",
        shape: "unsafe storage code, raw-parts unsafe fns, doctests",
        features: &[],
        skip: &[],
        pins: &[],
    },
];
