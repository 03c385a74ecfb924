//! Every test file and job of this crate is registered in `tests/Cargo.toml`. The crate sets
//! `autotests = false` and `autobins = false` (its root is `tests/`, so cargo's discovery would
//! look in `tests/tests/`), so a new `tests/x.rs` that is not registered would silently never
//! run: this test fails instead, naming it. And every skip goes through the harness's `skip`.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::path::Path;

use pushtimer_tests::repository;

/// The `path = "..."` values of the manifest's `[[test]]` or `[[bin]]` tables (`kind`).
fn registered(manifest: &str, kind: &str) -> BTreeSet<String> {
    let header = format!("[[{kind}]]");
    let mut paths = BTreeSet::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == header;
        } else if inside
            && let Some(path) = line
                .strip_prefix("path = \"")
                .and_then(|rest| rest.strip_suffix('"'))
        {
            paths.insert(path.to_owned());
        }
    }
    paths
}

/// The `.rs` files directly in `dir`, as paths relative to the crate root (`prefix` + name).
fn sources(dir: &Path, prefix: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs"))
        .map(|name| format!("{prefix}{name}"))
        .collect()
}

#[test]
fn every_test_file_and_job_is_registered() {
    let root = repository().join("tests");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("tests/Cargo.toml");
    let tests = registered(&manifest, "test");
    let bins = registered(&manifest, "bin");
    let unregistered: Vec<String> = sources(&root, "").difference(&tests).cloned().collect();
    assert!(
        unregistered.is_empty(),
        "tests/*.rs never run, add a [[test]] for each to tests/Cargo.toml: {unregistered:?}"
    );
    let jobs: Vec<String> = sources(&root.join("bin"), "bin/")
        .difference(&bins)
        .cloned()
        .collect();
    assert!(
        jobs.is_empty(),
        "tests/bin/*.rs never built, add a [[bin]] for each to tests/Cargo.toml: {jobs:?}"
    );
    // The scan itself works: it finds this file.
    assert!(tests.contains("registered.rs"), "{tests:?}");
}

/// Every skip goes through the harness's one `skip` (visible, and a failure in CI): no test
/// prints a skip of its own, which `eprintln!` would hide and CI would pass.
#[test]
fn every_skip_goes_through_the_harness() {
    let root = repository().join("tests");
    let mut files: Vec<_> = sources(&root, "")
        .into_iter()
        .chain(sources(&root.join("src"), "src/"))
        .chain(sources(&root.join("bin"), "bin/"))
        .collect();
    files.retain(|file| file != "src/skip.rs");
    let own_skips: Vec<&String> = files
        .iter()
        .filter(|file| {
            let text = std::fs::read_to_string(root.join(file)).expect("a test source");
            // Spelled in two pieces so that this file does not match itself.
            text.contains(concat!("SKIP", "PED")) || text.contains(concat!("\"skip", "ped"))
        })
        .collect();
    assert!(
        own_skips.is_empty(),
        "these print a skip of their own; call pushtimer_tests::skip instead: {own_skips:?}"
    );
    assert!(
        files.len() > 20,
        "the scan finds the test sources: {files:?}"
    );
}
