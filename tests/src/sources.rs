//! What the runtime's source says about itself: the environment variables it reads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The repository's root (the tests crate is one folder below it).
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the repository")
        .to_owned()
}

/// Every `"PUSHGATEWAY_…"` / `"PUSHTIMER_…"` string literal in the runtime's sources, tests
/// aside (`tests` folders and files, and everything after a file's first `#[cfg(test)]`): the
/// variables it reads.
pub fn runtime_variables() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut folders = vec![repository().join("runtime/src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a folder of runtime/src") {
            let path = entry.expect("entry").path();
            // Unit tests name variables of their own (where a test server is, whether a skip
            // fails): only the runtime's own code counts.
            let is_tests = path.file_stem().is_some_and(|stem| stem == "tests");
            if path.is_dir() {
                if !is_tests {
                    folders.push(path);
                }
                continue;
            }
            if is_tests || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable source");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for piece in code.split('"').skip(1).step_by(2) {
                if is_pushtimer_variable(piece) {
                    found.insert(piece.to_owned());
                }
            }
        }
    }
    found
}

/// `PUSHGATEWAY_…` or `PUSHTIMER_…`, in capitals and underscores.
pub fn is_pushtimer_variable(name: &str) -> bool {
    (name.starts_with("PUSHGATEWAY_") || name.starts_with("PUSHTIMER_"))
        && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}
