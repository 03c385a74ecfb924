//! The README's environment table is the one list of settings: every variable the runtime
//! reads is in it, it lists no variable the runtime does not read, and no other document
//! keeps a second copy of it.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;

use pushtimer_tests::{is_pushtimer_variable, repository, runtime_variables};

/// The variables named in the first column of a Markdown table in `text`.
fn table_variables(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .filter(|name| is_pushtimer_variable(name))
        .collect()
}

#[test]
fn every_variable_the_code_reads_is_in_the_readme_table_and_no_other() {
    let code = runtime_variables();
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
