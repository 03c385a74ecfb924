//! The scratch copy of a crate: its published files, rewritten, with a manifest of its own.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::rewrite::{self, Mode};

/// The feature that the control run enables (see [`patch_manifest`]).
pub const CONTROL_FEATURE: &str = "pushtimer-corpus-control";

/// The feature that the timed run enables (see [`patch_manifest`]).
pub const TIMED_FEATURE: &str = "pushtimer-corpus-timed";

/// What [`prepare`] did.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Functions that got the attribute, in all files.
    pub functions: usize,
    /// Files rewritten (parsed and searched for functions).
    pub files: usize,
    /// Files under `src/` or `tests/` that `syn` does not parse, copied unchanged, with why.
    pub unparsed: Vec<(PathBuf, String)>,
    /// Targets of the manifest whose source file the package does not ship (see
    /// [`drop_missing_targets`]).
    pub dropped_targets: Vec<String>,
}

/// What the scratch copy needs besides the crate's own files.
#[derive(Debug)]
pub struct Setup<'a> {
    /// The `runtime/` directory of this repository.
    pub runtime: &'a Path,
    /// The version of the rustc that builds the crate, e.g. `1.95.0`.
    pub rustc_version: &'a str,
    /// Whether the crate is a proc-macro crate: then only `tests/` is rewritten, and pushtimer
    /// is a dev-dependency (a proc-macro crate cannot use an attribute in its own source).
    pub proc_macro: bool,
    /// Paths relative to the crate's root that are copied but not rewritten.
    pub skip: &'a [&'a str],
}

/// Makes `dest` a copy of the crate at `source` with every function under `src/` and `tests/`
/// rewritten for `mode` (see [`rewrite::rewrite`]) and the manifest patched (see
/// [`patch_manifest`]).
///
/// A file is written only when its content changes and files the crate does not have are
/// removed (but for `Cargo.lock`), so that a second run over the same sources leaves every
/// mtime alone and cargo rebuilds nothing.
pub fn prepare(source: &Path, dest: &Path, mode: Mode, setup: &Setup<'_>) -> io::Result<Prepared> {
    let mut prepared = Prepared::default();
    let mut files = Vec::new();
    walk(source, Path::new(""), &mut files)?;
    let mut kept = BTreeSet::new();
    for relative in files {
        let from = source.join(&relative);
        let bytes = if relative == Path::new("Cargo.toml") {
            let manifest = std::fs::read_to_string(&from)?;
            let (manifest, dropped) =
                drop_missing_targets(&manifest, |path| source.join(path).is_file());
            prepared.dropped_targets = dropped;
            patch_manifest(
                &manifest,
                setup.runtime,
                setup.rustc_version,
                setup.proc_macro,
            )
            .into_bytes()
        } else if relative == Path::new("Cargo.lock") {
            // A lockfile the crate happens to ship is replaced by one resolved for the copy,
            // with the runtime's dependencies in it (see `main::set_up`).
            continue;
        } else if is_rewritten(&relative, setup) {
            let text = std::fs::read_to_string(&from)?;
            match rewrite::rewrite(&text, mode) {
                Ok(rewritten) => {
                    prepared.files += 1;
                    prepared.functions += rewritten.functions;
                    rewritten.text.into_bytes()
                }
                Err(error) => {
                    prepared
                        .unparsed
                        .push((relative.clone(), error.to_string()));
                    text.into_bytes()
                }
            }
        } else {
            std::fs::read(&from)?
        };
        write_if_changed(&dest.join(&relative), &bytes)?;
        kept.insert(relative);
    }
    kept.insert(PathBuf::from("Cargo.lock"));
    remove_others(dest, Path::new(""), &kept)?;
    Ok(prepared)
}

/// Whether the file at `relative` gets the rewrite: a `.rs` under `tests/`, or under `src/` but
/// for a proc-macro crate, and not under a skipped path.
fn is_rewritten(relative: &Path, setup: &Setup<'_>) -> bool {
    let in_scope =
        relative.starts_with("tests") || (!setup.proc_macro && relative.starts_with("src"));
    in_scope
        && relative.extension().is_some_and(|ext| ext == "rs")
        && !setup
            .skip
            .iter()
            .any(|skipped| relative.starts_with(skipped))
}

/// The crate's manifest for the scratch copy:
/// - `package.rust-version` is set to the toolchain's version, so that cargo's `fallback`
///   resolver picks the newest dependency versions this rustc builds (with the crate's own older
///   MSRV it would prefer versions from years ago, and for dependencies with no version that old,
///   fall back to the newest, even one needing a newer rustc than this one);
/// - a `[workspace]` table is appended, so that cargo does not take the copy, which sits under
///   this repository's `target/`, for a member of our workspace;
/// - `pushtimer` is appended as a path dependency (a dev-dependency of a proc-macro crate);
/// - two empty features are declared, [`CONTROL_FEATURE`] and [`TIMED_FEATURE`], each run
///   enabling its own: cargo names a path package's artifacts by its path relative to the
///   workspace root (here empty for both copies), its version and its features, so without them
///   the two copies would share the same files in the shared target directory, and the timed run
///   would find the control's build fresh and test it instead of its own.
pub fn patch_manifest(
    manifest: &str,
    runtime: &Path,
    rustc_version: &str,
    proc_macro: bool,
) -> String {
    let rust_version = format!("rust-version = \"{rustc_version}\"");
    let mut out = String::with_capacity(manifest.len() + 256);
    let markers = format!("{CONTROL_FEATURE} = []\n{TIMED_FEATURE} = []\n");
    let mut section = String::new();
    let mut replaced = false;
    let mut features = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if section == "[package]" && !replaced {
                // `[package]` had no rust-version: add it at the end of the table.
                out.push_str(&rust_version);
                out.push('\n');
                replaced = true;
            }
            section = trimmed.to_owned();
        }
        if section == "[package]" && is_key(trimmed, "rust-version") {
            out.push_str(&rust_version);
            replaced = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
        if trimmed == "[features]" {
            out.push_str(&markers);
            features = true;
        }
    }
    if section == "[package]" && !replaced {
        out.push_str(&rust_version);
        out.push('\n');
    }
    out.push_str("\n# Appended by pushtimer-corpus.\n");
    if !manifest.lines().any(|line| line.trim() == "[workspace]") {
        out.push_str("[workspace]\n\n");
    }
    if !features {
        out.push_str("[features]\n");
        out.push_str(&markers);
        out.push('\n');
    }
    let table = if proc_macro {
        "dev-dependencies"
    } else {
        "dependencies"
    };
    out.push_str(&format!(
        "[{table}.pushtimer]\npath = {}\n",
        toml_string(&runtime.to_string_lossy())
    ));
    out
}

/// Removes from a (normalized, as published) manifest the `[[bin]]`, `[[example]]`, `[[test]]`
/// and `[[bench]]` tables whose `path` does not exist, and says which (`example custom_error`).
///
/// Some packages list targets that they leave out of the published file set (nom 7.1.3 lists six
/// examples and ships none); `cargo test` builds examples, and so would fail on them before
/// building anything.
pub fn drop_missing_targets(
    manifest: &str,
    exists: impl Fn(&str) -> bool,
) -> (String, Vec<String>) {
    /// Flushes a buffered target table into `out`, unless its path is missing.
    fn flush(
        block: &mut Vec<&str>,
        out: &mut String,
        dropped: &mut Vec<String>,
        exists: &dyn Fn(&str) -> bool,
    ) {
        let value = |key: &str| {
            block
                .iter()
                .find(|line| is_key(line.trim(), key))
                .and_then(|line| {
                    let (_, value) = line.split_once('=')?;
                    Some(value.trim().trim_matches('"').to_owned())
                })
        };
        let kind = block
            .first()
            .map(|header| header.trim().trim_matches(['[', ']']))
            .unwrap_or_default();
        match value("path") {
            Some(path) if !exists(&path) => {
                dropped.push(format!("{kind} {}", value("name").unwrap_or(path)));
            }
            _ => {
                for line in block.iter() {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        block.clear();
    }

    let mut out = String::with_capacity(manifest.len());
    let mut dropped = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            flush(&mut block, &mut out, &mut dropped, &exists);
        }
        let target = ["[[bin]]", "[[example]]", "[[test]]", "[[bench]]"].contains(&trimmed);
        if target || !block.is_empty() {
            block.push(line);
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    flush(&mut block, &mut out, &mut dropped, &exists);
    (out, dropped)
}

/// Whether a TOML line assigns `key`.
fn is_key(line: &str, key: &str) -> bool {
    line.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lists every file under `root/relative`, as paths relative to `root`, sorted.
fn walk(root: &Path, relative: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries = std::fs::read_dir(root.join(relative))?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = relative.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            walk(root, &path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` unless it already holds exactly them.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

/// Removes every file under `root/relative` whose path is not in `kept`.
fn remove_others(root: &Path, relative: &Path, kept: &BTreeSet<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(root.join(relative))? {
        let entry = entry?;
        let path = relative.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            remove_others(root, &path, kept)?;
        } else if !kept.contains(&path) {
            std::fs::remove_file(root.join(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "\
[package]
edition = \"2021\"
rust-version = \"1.57\"
name = \"x\"

[dependencies.serde]
version = \"1\"
";

    #[test]
    fn the_manifest_gets_a_workspace_the_runtime_and_the_toolchain_version() {
        let patched = patch_manifest(MANIFEST, Path::new("/repo/runtime"), "1.95.0", false);
        assert_eq!(
            patched,
            "\
[package]
edition = \"2021\"
rust-version = \"1.95.0\"
name = \"x\"

[dependencies.serde]
version = \"1\"

# Appended by pushtimer-corpus.
[workspace]

[features]
pushtimer-corpus-control = []
pushtimer-corpus-timed = []

[dependencies.pushtimer]
path = \"/repo/runtime\"
"
        );
    }

    #[test]
    fn a_missing_rust_version_is_added_and_a_proc_macro_gets_a_dev_dependency() {
        let manifest =
            "[package]\nname = \"x\"\n\n[lib]\nproc-macro = true\n\n[features]\nstd = []\n";
        let patched = patch_manifest(manifest, Path::new("C:\\r \"q\""), "1.95.0", true);
        assert!(patched.starts_with(
            "[package]\nname = \"x\"\n\nrust-version = \"1.95.0\"\n[lib]\nproc-macro = true\n\n\
             [features]\npushtimer-corpus-control = []\npushtimer-corpus-timed = []\nstd = []\n"
        ));
        assert!(!patched.contains(
            "\n[features]\npushtimer-corpus-control = []\npushtimer-corpus-timed = []\n\n"
        ));
        assert!(patched.ends_with("[dev-dependencies.pushtimer]\npath = \"C:\\\\r \\\"q\\\"\"\n"));
    }

    #[test]
    fn targets_whose_file_is_not_shipped_are_dropped() {
        let manifest = "\
[lib]
path = \"src/lib.rs\"

[[example]]
name = \"json\"
path = \"examples/json.rs\"

[[test]]
name = \"css\"
path = \"tests/css.rs\"

[[bench]]
name = \"b\"
path = \"benches/b.rs\"
[dev-dependencies.x]
version = \"1\"
";
        let (kept, dropped) = drop_missing_targets(manifest, |path| path.starts_with("tests/"));
        assert_eq!(dropped, ["example json", "bench b"]);
        assert_eq!(
            kept,
            "[lib]\npath = \"src/lib.rs\"\n\n[[test]]\nname = \"css\"\npath = \"tests/css.rs\"\n\n[dev-dependencies.x]\nversion = \"1\"\n"
        );
    }

    #[test]
    fn only_rs_files_under_src_and_tests_are_rewritten() {
        let setup = Setup {
            runtime: Path::new("/r"),
            rustc_version: "1.95.0",
            proc_macro: false,
            skip: &["tests/ui"],
        };
        assert!(is_rewritten(Path::new("src/lib.rs"), &setup));
        assert!(is_rewritten(Path::new("tests/common/mod.rs"), &setup));
        assert!(!is_rewritten(Path::new("tests/ui/case.rs"), &setup));
        assert!(!is_rewritten(Path::new("build.rs"), &setup));
        assert!(!is_rewritten(Path::new("benches/b.rs"), &setup));
        assert!(!is_rewritten(Path::new("src/table.txt"), &setup));
        let proc_macro = Setup {
            proc_macro: true,
            ..setup
        };
        assert!(!is_rewritten(Path::new("src/lib.rs"), &proc_macro));
        assert!(is_rewritten(Path::new("tests/test.rs"), &proc_macro));
    }
}
