//! The grouping key in the URL path: `/job/<job>{/<label>/<value>}`.
//!
//! A value that is not plainly safe as one path segment goes as `<label>@base64/<url-safe
//! base64>`, which the Pushgateway decodes; so any string survives, including `/`, `%`, `.`,
//! `..`, non-ASCII and the empty string (`@base64/=`). A `//` is never produced.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;

/// `/<name>/<value>` or `/<name>@base64/<encoded value>`.
pub(crate) fn segment(name: &str, value: &str) -> String {
    if is_plain(value) {
        format!("/{name}/{value}")
    } else if value.is_empty() {
        format!("/{name}@base64/=")
    } else {
        format!("/{name}@base64/{}", URL_SAFE.encode(value))
    }
}

/// Unreserved URL characters only, and not a dot segment (`.`, `..`), which HTTP stacks
/// collapse.
fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_stay_readable() {
        assert_eq!(segment("job", "train-model_1.v2"), "/job/train-model_1.v2");
    }

    #[test]
    fn awkward_values_go_base64() {
        assert_eq!(segment("job", "a/b"), "/job@base64/YS9i");
        assert_eq!(segment("job", ""), "/job@base64/=");
        assert_eq!(segment("job", ".."), "/job@base64/Li4=");
        assert_eq!(segment("shard", "a b+c"), "/shard@base64/YSBiK2M=");
        let encoded = segment("x", "grüße");
        assert!(encoded.starts_with("/x@base64/"), "{encoded}");
        assert!(!encoded.contains("//"));
    }
}
