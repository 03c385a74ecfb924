//! The one place where text that may hold a credential is made safe to print.
//!
//! The only secret that can travel inside a printable string is the userinfo of the gateway's
//! URL (`https://user:password@host`): passwords and tokens given any other way are never
//! formatted at all. Users write passwords unencoded, with `/`, `#`, `?`, `@` or spaces in them,
//! so the userinfo is taken to be everything between `://` and the *last* `@` of the text: an
//! `@` in a path is hidden too, which costs some readability and never a secret.

/// `url` with everything between `://` and its last `@` replaced by `***`. Without a scheme
/// (a malformed URL such as `user:pw@host`), everything before the last `@` is hidden.
pub(crate) fn redact_url(url: &str) -> String {
    let start = url
        .find("://")
        .filter(|&end| is_scheme(url.get(..end).unwrap_or("")))
        .map_or(0, |end| end + 3);
    let rest = url.get(start..).unwrap_or("");
    match rest.rfind('@') {
        Some(at) => format!(
            "{}***{}",
            url.get(..start).unwrap_or(""),
            rest.get(at..).unwrap_or("")
        ),
        None => url.to_owned(),
    }
}

/// `[a-zA-Z][a-zA-Z0-9+.-]*`: what may stand before `://`. Anything else there (a `:` of a
/// password, say) means the `://` is inside the secret.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passwords real users have: base64 with `/` and `+`, and every character that ends a URL
    /// component or a token in a log line.
    const HOSTILE: &[&str] = &[
        "Zm9v/YmFy+==",
        "p#frag",
        "p?q=1",
        "p@ss@word",
        "with space",
        "quo\"te",
        "a/b?c#d@e",
        "://x",
        "%zz%",
        "ünïcödé",
        "",
    ];

    #[test]
    fn no_hostile_password_survives() {
        for password in HOSTILE {
            for url in [
                format!("https://batch:{password}@gw:9091"),
                format!("https://batch:{password}@gw:9091/prefix"),
                format!("http://batch:{password}@gw"),
                format!("batch:{password}@gw:9091"),
                format!("ftp://batch:{password}@gw"),
            ] {
                let shown = redact_url(&url);
                if !password.is_empty() {
                    assert!(!shown.contains(password), "{url} -> {shown}");
                }
                assert!(!shown.contains("batch"), "{url} -> {shown}");
                assert!(
                    shown.ends_with("@gw:9091") || shown.contains("@gw"),
                    "{shown}"
                );
            }
        }
    }

    #[test]
    fn urls_without_userinfo_are_unchanged() {
        for url in ["https://gw:9091", "http://gw/prefix", "not a url", ""] {
            assert_eq!(redact_url(url), url);
        }
        assert_eq!(redact_url("https://u:pw@h:1/x"), "https://***@h:1/x");
    }
}
