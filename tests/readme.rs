//! The README's environment table is the one list of settings: every variable the runtime
//! reads is in it, it lists no variable the runtime does not read, and no other document
//! keeps a second copy of it.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the repository")
        .to_owned()
}

/// Every `"PUSHGATEWAY_…"` / `"PUSHTIMER_…"` string literal in the runtime's sources.
fn variables_in_code() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let sources = repository().join("runtime/src");
    for entry in std::fs::read_dir(&sources).expect("runtime/src") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable source");
        for piece in text.split('"').skip(1).step_by(2) {
            let is_variable = (piece.starts_with("PUSHGATEWAY_")
                || piece.starts_with("PUSHTIMER_"))
                && piece.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
            if is_variable {
                found.insert(piece.to_owned());
            }
        }
    }
    found
}

/// The variables named in the first column of a Markdown table in `text`.
fn table_variables(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .filter(|name| name.starts_with("PUSHGATEWAY_") || name.starts_with("PUSHTIMER_"))
        .collect()
}

#[test]
fn every_variable_the_code_reads_is_in_the_readme_table_and_no_other() {
    let code = variables_in_code();
    assert!(code.len() >= 15, "the scan found too little: {code:?}");
    let readme = std::fs::read_to_string(repository().join("README.md")).expect("README.md");
    let table = table_variables(&readme);
    let missing: Vec<_> = code.difference(&table).collect();
    let stale: Vec<_> = table.difference(&code).collect();
    assert!(
        missing.is_empty(),
        "read by the code, missing from the README table: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "in the README table, never read by the code: {stale:?}"
    );
}

#[test]
fn the_environment_table_exists_once() {
    let root = repository();
    let mut documents = vec![
        root.join("runtime/src/lib.rs"),
        root.join("runtime/README.md"),
    ];
    if let Ok(entries) = std::fs::read_dir(root.join("docs")) {
        documents.extend(entries.flatten().map(|entry| entry.path()));
    }
    for document in documents {
        let text = std::fs::read_to_string(&document).unwrap_or_default();
        let rows = table_variables(&text.replace("//! ", ""));
        assert!(
            rows.len() < 3,
            "{} keeps a copy of the environment table ({rows:?}); link to the README's instead",
            document.display()
        );
    }
}
