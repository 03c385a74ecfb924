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

    // Properties: what the Pushgateway decodes from a segment is exactly what was encoded.

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    /// Reads a grouping-key path (`/<name>/<value>` or `/<name>@base64/<value>`, repeated) the
    /// way the Pushgateway does: the path is percent-decoded (Go's `URL.Path`), split at `/`
    /// into name/value pairs; a name ending in `@base64` has a URL-safe base64 value with
    /// optional padding (`=` alone is the empty string) that must decode to UTF-8; any other
    /// value is the raw segment, `+` included (it is not a space in a path). Label names must
    /// match `[a-zA-Z_][a-zA-Z0-9_]*` and not start with `__`.
    fn decode(path: &str) -> Result<Vec<(String, String)>, String> {
        let path = percent_decode(path)?;
        let rest = path
            .strip_prefix('/')
            .ok_or_else(|| format!("{path:?} does not start with /"))?;
        let parts: Vec<&str> = rest.split('/').collect();
        if !parts.len().is_multiple_of(2) {
            return Err(format!("odd number of components in {path:?}"));
        }
        let mut pairs = Vec::new();
        for pair in parts.chunks(2) {
            let (name, value) = (pair[0], pair[1]);
            let (label, value) = match name.strip_suffix("@base64") {
                Some(label) => {
                    let bytes = URL_SAFE_NO_PAD
                        .decode(value.trim_end_matches('='))
                        .map_err(|e| format!("bad base64 {value:?}: {e}"))?;
                    let value = String::from_utf8(bytes)
                        .map_err(|e| format!("base64 {value:?} is not UTF-8: {e}"))?;
                    (label, value)
                }
                None if value.is_empty() => return Err(format!("empty value in {path:?}")),
                None => (name, value.to_owned()),
            };
            let mut chars = label.chars();
            let valid = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !label.starts_with("__");
            if !valid {
                return Err(format!("improper label name {label:?}"));
            }
            pairs.push((label.to_owned(), value));
        }
        Ok(pairs)
    }

    fn percent_decode(text: &str) -> Result<String, String> {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad percent escape in {text:?}"))?;
                out.push(hex);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).map_err(|e| format!("{text:?} is not UTF-8 once decoded: {e}"))
    }

    /// Unreserved URL characters (RFC 3986), plus `/`, `@` and `=`.
    fn path_safe(c: char) -> bool {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '/' | '@' | '=')
    }

    fn label_name() -> impl Strategy<Value = String> {
        "[a-zA-Z_][a-zA-Z0-9_]{0,10}".prop_filter("names starting with __ are reserved", |n| {
            !n.starts_with("__")
        })
    }

    /// Any string, with the awkward cases made likely: path syntax, percent signs, `+`,
    /// spaces, dot segments, the empty string, non-ASCII and control characters.
    fn label_value() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "/",
            "//",
            "%",
            "%2F",
            "%20",
            "+",
            " ",
            ".",
            "..",
            "~",
            "-",
            "_",
            "=",
            "@",
            "@base64",
            "?",
            "#",
            "&",
            "a",
            "Z",
            "0",
            "é",
            "ß",
            "\u{1F980}",
            "\u{0}",
            "\n",
            "\r",
            "\t",
            "\u{7F}",
            "\\",
        ]);
        prop_oneof![
            any::<String>(),
            "[a-zA-Z0-9._~-]{0,12}",
            Just(String::new()),
            Just(".".to_owned()),
            Just("..".to_owned()),
            prop::collection::vec(pieces, 0..8).prop_map(|p| p.concat()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn segment_decodes_to_the_same_label(name in label_name(), value in label_value()) {
            let encoded = segment(&name, &value);
            prop_assert_eq!(decode(&encoded), Ok(vec![(name, value)]), "segment {:?}", encoded);
        }

        #[test]
        fn segment_is_a_clean_path(name in label_name(), value in label_value()) {
            let encoded = segment(&name, &value);
            prop_assert!(encoded.starts_with('/'), "{:?}", encoded);
            prop_assert!(!encoded.contains("//"), "{:?} has //", encoded);
            prop_assert!(!encoded.ends_with('/'), "{:?} ends with /", encoded);
            let unsafe_char = encoded.chars().find(|c| !path_safe(*c));
            prop_assert_eq!(unsafe_char, None, "{:?} is not path-safe", encoded);
            for part in encoded.split('/').skip(1) {
                prop_assert!(part != "." && part != "..", "{:?} has a dot segment", encoded);
            }
        }

        #[test]
        fn readable_values_stay_plain(name in label_name(), value in "[a-zA-Z0-9._~-]{1,12}") {
            prop_assume!(value != "." && value != "..");
            prop_assert_eq!(segment(&name, &value), format!("/{name}/{value}"));
        }

        /// A pusher appends one segment per grouping label: the whole path decodes to all of them.
        #[test]
        fn segments_concatenate(
            labels in prop::collection::vec((label_name(), label_value()), 1..5)
        ) {
            let path: String = labels.iter().map(|(n, v)| segment(n, v)).collect();
            prop_assert_eq!(decode(&path), Ok(labels), "path {:?}", path);
        }
    }
}
