//! Fetching the crates' published sources with cargo itself.
//!
//! A throwaway package depends on every crate of the corpus at its exact version; `cargo
//! metadata` on it downloads and unpacks them into cargo's registry cache (`$CARGO_HOME/registry/
//! src/...`) with the registry configuration cargo already has, and says where each one is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cargo::Cargo;
use crate::crates::Crate;

/// One crate's unpacked published source.
#[derive(Debug)]
pub struct Source {
    /// The directory holding its `Cargo.toml`, in cargo's registry cache (never modified).
    pub dir: PathBuf,
    /// Whether its library is a proc-macro.
    pub proc_macro: bool,
    /// Its edition.
    pub edition: String,
}

/// The outcome of [`fetch`].
#[derive(Debug)]
pub enum Fetched {
    /// Every crate, by name.
    Sources(BTreeMap<String, Source>),
    /// The registry could not be reached; the text says what cargo said.
    Unreachable(String),
}

/// Fetches every crate of `crates` at its exact version, with `work` as the throwaway package's
/// directory.
///
/// Fails (rather than report the registry unreachable) when cargo reached it but it has no such
/// version, or when a crate is older than edition 2018.
pub fn fetch(cargo: &Cargo, crates: &[&Crate], work: &Path) -> Result<Fetched, String> {
    let fail = |what: &str, error: std::io::Error| format!("{what}: {error}");
    std::fs::create_dir_all(work.join("src")).map_err(|e| fail("creating the fetch package", e))?;
    std::fs::write(work.join("src/lib.rs"), "")
        .map_err(|e| fail("writing the fetch package", e))?;
    let mut manifest = String::from(
        "# Written by pushtimer-corpus: depends on every crate of the corpus, to fetch them.\n\
         [package]\nname = \"pushtimer-corpus-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n",
    );
    for krate in crates {
        manifest.push_str(&format!("{} = \"={}\"\n", krate.name, krate.version));
    }
    std::fs::write(work.join("Cargo.toml"), manifest)
        .map_err(|e| fail("writing the fetch package", e))?;
    // A lockfile left by an earlier run with other crates would only be updated; start afresh.
    let _ = std::fs::remove_file(work.join("Cargo.lock"));

    let output = cargo
        .run(work, ["metadata", "--format-version", "1"], "fetch")
        .map_err(|e| fail("running cargo metadata", e))?;
    if !output.success {
        let stderr = &output.stderr;
        let cargo_said_no = [
            "failed to select a version",
            "no matching package named",
            "candidate versions found",
        ]
        .iter()
        .any(|phrase| stderr.contains(phrase));
        if cargo_said_no {
            return Err(format!(
                "cargo could not resolve the corpus's crates:\n{stderr}"
            ));
        }
        return Ok(Fetched::Unreachable(unreachable_reason(stderr)));
    }
    let metadata: Value = serde_json::from_str(&output.stdout)
        .map_err(|e| format!("cargo metadata's output: {e}"))?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let mut sources = BTreeMap::new();
    for krate in crates {
        let package = packages
            .iter()
            .find(|package| {
                package["name"] == krate.name
                    && package["version"] == krate.version
                    && package["source"]
                        .as_str()
                        .is_some_and(|source| source.starts_with("registry+"))
            })
            .ok_or_else(|| {
                format!(
                    "cargo metadata does not list {} {}",
                    krate.name, krate.version
                )
            })?;
        let manifest_path = package["manifest_path"].as_str().unwrap_or_default();
        let dir = Path::new(manifest_path)
            .parent()
            .ok_or_else(|| format!("{}: no manifest path in cargo metadata", krate.name))?
            .to_path_buf();
        let edition = package["edition"].as_str().unwrap_or("2015").to_owned();
        if edition == "2015" {
            return Err(format!(
                "{} {} is edition 2015: `#[pushtimer::timed]` needs the 2018 extern prelude",
                krate.name, krate.version
            ));
        }
        let proc_macro = package["targets"].as_array().is_some_and(|targets| {
            targets.iter().any(|target| {
                target["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "proc-macro"))
            })
        });
        sources.insert(
            krate.name.to_owned(),
            Source {
                dir,
                proc_macro,
                edition,
            },
        );
    }
    Ok(Fetched::Sources(sources))
}

/// One line out of cargo's error about a registry it could not reach: the deepest cause it gives
/// (the last non-empty line), e.g. `[6] Could not resolve host: index.crates.io`.
fn unreachable_reason(stderr: &str) -> String {
    let last = stderr.lines().map(str::trim).rfind(|line| !line.is_empty());
    format!(
        "cargo metadata: {}",
        last.unwrap_or("failed, saying nothing")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_the_error_and_its_deepest_cause() {
        let stderr = "    Updating crates.io index\nerror: failed to get `nom` as a dependency of package `x`\n\nCaused by:\n  download of config.json failed\n\nCaused by:\n  [6] Could not resolve host: index.crates.io\n";
        assert_eq!(
            unreachable_reason(stderr),
            "cargo metadata: [6] Could not resolve host: index.crates.io"
        );
    }
}
