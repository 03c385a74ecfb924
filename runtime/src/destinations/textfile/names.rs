//! The names of the files written: the state file's, and its records' beside it.

use super::*;

/// The file name of `path` as the kernel sees it: what follows its last `/`, when that is a
/// name (not empty, `.` or `..`). `Path::file_name` would take `dir/` for the file `dir`.
pub(super) fn file_name(path: &Path) -> Option<OsString> {
    let bytes = path.as_os_str().as_encoded_bytes();
    let last = bytes
        .rsplit(|byte| std::path::is_separator(char::from(*byte)))
        .next()
        .unwrap_or_default();
    if last.is_empty() || last == b"." || last == b".." {
        return None;
    }
    path.file_name().map(OsString::from)
}

/// Whether a file name ends in `.prom`.
pub(super) fn ends_with_suffix(name: &OsString) -> bool {
    name.as_encoded_bytes().ends_with(SUFFIX.as_bytes())
}

/// The name of a record's file beside the state file `name`: `nightly_etl.prom` →
/// `nightly_etl.last_completion.prom`; a name not ending in `.prom` gets the record appended
/// (`etl.txt` → `etl.txt.last_completion`), so records and state are read or ignored alike.
pub(super) fn record_name(name: &OsString, record: &str) -> OsString {
    let (stem, suffix) = split_suffix(name);
    let mut record_name = stem;
    record_name.push(".");
    record_name.push(record);
    record_name.push(suffix);
    record_name
}

/// `name` without `.prom`, and the suffix taken off (empty when there was none).
#[cfg(unix)]
pub(super) fn split_suffix(name: &OsString) -> (OsString, &'static str) {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    match bytes.strip_suffix(SUFFIX.as_bytes()) {
        Some(stem) => (std::ffi::OsStr::from_bytes(stem).to_owned(), SUFFIX),
        None => (name.clone(), ""),
    }
}

#[cfg(not(unix))]
pub(super) fn split_suffix(name: &OsString) -> (OsString, &'static str) {
    match name.to_str().and_then(|text| text.strip_suffix(SUFFIX)) {
        Some(stem) => (OsString::from(stem), SUFFIX),
        None => (name.clone(), ""),
    }
}
