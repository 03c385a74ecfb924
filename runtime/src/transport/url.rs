//! A server's URL (the gateway's, or the remote-write endpoint's), taken apart: scheme, host, port and path prefix for requests, and the
//! userinfo (`user:password@`) as basic-auth credentials, which never stay in the URL.

use ureq::http::Uri;

use crate::error::PushError;
use crate::redact::redact_url;

/// A checked server URL: `PUSHGATEWAY_URL` or `PUSHTIMER_REMOTE_WRITE_URL`.
pub(crate) struct ServerUrl {
    /// `scheme://host[:port][/path]`: no trailing `/`, no credentials.
    pub(crate) base: String,
    /// Decoded `(user, password)` from the userinfo.
    pub(crate) credentials: Option<(String, String)>,
    /// The userinfo held characters that must be percent-encoded there (`/`, `?`, `#`, `@`,
    /// whitespace, or a `%` not starting an escape): it was read as written, but deserves a
    /// warning.
    pub(crate) unencoded_userinfo: bool,
}

impl ServerUrl {
    /// Reads `text`: everything between `://` and the last `@` is the userinfo (see
    /// `redact.rs`); the rest must be an `http` or `https` URL with a host and no query.
    pub(crate) fn parse(text: &str, setting: &'static str) -> Result<ServerUrl, PushError> {
        let text = text.trim();
        let invalid = |reason: &str| PushError::InvalidConfig {
            setting,
            reason: format!("{:?} {reason}", redact_url(text)),
        };
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(invalid(
                "is not a URL: it must start with http:// or https://",
            ));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(invalid("must start with http:// or https://"));
        }
        let (userinfo, location) = match rest.rfind('@') {
            Some(at) => (rest.get(..at), rest.get(at + 1..).unwrap_or("")),
            None => (None, rest),
        };
        let uri: Uri = format!("{scheme}://{}", location.trim_end_matches('/'))
            .parse()
            .map_err(|e| invalid(&format!("is not a URL ({e})")))?;
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("has no host"));
        }
        if uri.query().is_some() || location.contains('#') {
            return Err(invalid("must not have a query or a fragment"));
        }
        let host_port = uri.authority().map_or("", |authority| authority.as_str());
        let port = host_port
            .rsplit_once(':')
            .filter(|(host, _)| !host.starts_with('[') || host.ends_with(']'))
            .map(|(_, port)| port);
        if port.is_some_and(|port| port.parse::<u16>().is_err()) {
            return Err(invalid("has a port that is not a number from 0 to 65535"));
        }
        let path = uri.path().trim_end_matches('/');
        let credentials = userinfo.map(|userinfo| {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (percent_decode(user), percent_decode(password))
        });
        Ok(ServerUrl {
            base: format!("{scheme}://{host_port}{path}"),
            credentials,
            unencoded_userinfo: userinfo.is_some_and(|u| !is_percent_encoded(u)),
        })
    }
}

/// True when `userinfo` holds only what RFC 3986 allows there unencoded.
fn is_percent_encoded(userinfo: &str) -> bool {
    let bytes = userinfo.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes
            .get(i + 1..i + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        b'/' | b'?' | b'#' | b'@' | b'[' | b']' | b'"' | b'<' | b'>' | b'\\' | b'^' | b'`'
        | b'{' | b'|' | b'}' => false,
        _ => b.is_ascii_graphic(),
    })
}

/// `%XX` sequences decoded; anything else kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::env;

    #[test]
    fn urls_are_checked() {
        assert!(ServerUrl::parse("http://localhost:9091", env::URL).is_ok());
        assert!(ServerUrl::parse("HTTPS://gw.example/prefix/", env::URL).is_ok());
        for bad in [
            "not a url",
            "ftp://host:21",
            "localhost:9091",
            "http://",
            "http://h?x=1",
            "http://h/#x",
        ] {
            let error = ServerUrl::parse(bad, env::URL).err().unwrap();
            assert!(
                error.to_string().contains("PUSHGATEWAY_URL"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn encoded_userinfo_is_decoded_and_leaves_the_url() {
        let url = ServerUrl::parse("https://batch:s%40c%2Fret@h:1/x/", env::URL).unwrap();
        assert_eq!(url.base, "https://h:1/x");
        assert_eq!(url.credentials, Some(("batch".into(), "s@c/ret".into())));
        assert!(!url.unencoded_userinfo);
    }

    #[test]
    fn unencoded_userinfo_is_read_as_written_and_flagged() {
        for (password, base) in [
            ("Zm9v/YmFy+==", "https://gw:9091"),
            ("a#b", "https://gw:9091"),
            ("a?b", "https://gw:9091"),
            ("p@ss", "https://gw:9091"),
            ("50%", "https://gw:9091"),
        ] {
            let text = format!("https://batch:{password}@gw:9091");
            let url = ServerUrl::parse(&text, env::URL).unwrap();
            assert_eq!(url.base, base, "{text}");
            assert_eq!(
                url.credentials,
                Some(("batch".into(), password.into())),
                "{text}"
            );
            assert!(url.unencoded_userinfo, "{text}");
        }
    }

    #[test]
    fn errors_never_show_the_userinfo() {
        for bad in [
            "https://batch:Zm9v/YmFy@gw:notaport",
            "ftp://batch:hunter2@gw",
            "https://batch:hunter2@",
            "https://batch:hunter2@gw?x",
        ] {
            let Err(error) = ServerUrl::parse(bad, env::URL) else {
                panic!("{bad} was accepted");
            };
            let error = error.to_string();
            assert!(
                !error.contains("hunter2") && !error.contains("Zm9v"),
                "{error}"
            );
        }
    }
}
