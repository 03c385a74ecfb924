//! [`Server`]: one server pushtimer sends to, as the user describes it: its URL, the CA to
//! trust, a client certificate, and credentials. The Pushgateway ([`Config::gateway`]), the
//! remote-write endpoint ([`Config::remote_write`]) and a [`Pusher`] are each given one, so
//! every server is set the same way, and one's credentials never reach another.
//!
//! Plain data: nothing is read here. The files are read and checked when the server is used
//! (at start-up for a [`Config`], at once for a [`Pusher`]), see `transport/endpoint.rs`.
//!
//! [`Config`]: crate::Config
//! [`Config::gateway`]: crate::Config::gateway
//! [`Config::remote_write`]: crate::Config::remote_write
//! [`Pusher`]: crate::Pusher

use std::fmt;
use std::path::PathBuf;

use crate::redact::redact_url;

/// A server to send to: its URL, and how to reach it safely.
///
/// ```
/// let gateway = pushtimer::Server::new("https://pushgateway.monitoring:9091")
///     .ca_file("/etc/pushgateway/ca.pem")
///     .bearer_token_file("/var/run/secrets/pushgateway/token");
/// let installed = pushtimer::Config::from_env().gateway(gateway).install();
/// # let _ = installed;
/// ```
///
/// A `&str` or `String` converts into a server with nothing but its URL, so
/// `Config::new().gateway("http://pushgateway:9091")` works too. Certificate verification is
/// always on: without [`ca_file`](Self::ca_file) the public Mozilla roots are trusted. `Debug`
/// never shows a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Server {
    pub(crate) url: String,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) client_cert_file: Option<PathBuf>,
    pub(crate) client_key_file: Option<PathBuf>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) bearer_token_file: Option<PathBuf>,
}

impl Server {
    /// The server at `url`: an `http://` or `https://` base URL, optionally with a path
    /// (a remote-write endpoint's `/api/v1/write`, a gateway behind a path prefix), optionally
    /// with percent-encoded `user:password@` for basic auth (everything between `://` and the
    /// last `@` is read as the user and password, and never shown). The URL is checked when
    /// the server is used.
    pub fn new(url: &str) -> Server {
        Server {
            url: url.trim().to_owned(),
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            username: None,
            password: None,
            bearer_token_file: None,
        }
    }

    /// Trusts exactly the CA certificates in this PEM file for the server's certificate,
    /// instead of the public Mozilla roots (`PUSHGATEWAY_CA_FILE`,
    /// `PUSHTIMER_REMOTE_WRITE_CA_FILE`; default: none).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Server {
        self.ca_file = Some(path.into());
        self
    }

    /// Presents a client certificate for mutual TLS: a PEM chain and its PEM key (PKCS#8,
    /// PKCS#1 or SEC1), checked to belong together (`PUSHGATEWAY_CLIENT_CERT_FILE` and
    /// `PUSHGATEWAY_CLIENT_KEY_FILE`, or the `PUSHTIMER_REMOTE_WRITE_` pair; default: none).
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Server {
        self.client_cert_file = Some(cert.into());
        self.client_key_file = Some(key.into());
        self
    }

    /// Sends HTTP basic auth (`PUSHGATEWAY_USERNAME` and `PUSHGATEWAY_PASSWORD`, or the
    /// `PUSHTIMER_REMOTE_WRITE_` pair; default: none). Over plain `http://` it works, with a
    /// warning: the password travels in clear text.
    pub fn basic_auth(mut self, username: &str, password: &str) -> Server {
        self.username = Some(username.to_owned());
        self.password = Some(password.to_owned());
        self
    }

    /// Sends `Authorization: Bearer <token>`, the token read (trimmed) from this file and read
    /// again whenever the file changes (`PUSHGATEWAY_BEARER_TOKEN_FILE`,
    /// `PUSHTIMER_REMOTE_WRITE_BEARER_TOKEN_FILE`; default: none). It wins over basic auth.
    pub fn bearer_token_file(mut self, path: impl Into<PathBuf>) -> Server {
        self.bearer_token_file = Some(path.into());
        self
    }
}

impl From<&str> for Server {
    fn from(url: &str) -> Server {
        Server::new(url)
    }
}

impl From<&String> for Server {
    fn from(url: &String) -> Server {
        Server::new(url)
    }
}

impl From<String> for Server {
    fn from(url: String) -> Server {
        Server::new(&url)
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("url", &redact_url(&self.url))
            .field("ca_file", &self.ca_file)
            .field("client_cert_file", &self.client_cert_file)
            .field("client_key_file", &self.client_key_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("bearer_token_file", &self.bearer_token_file)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_password_in_the_url_or_beside_it() {
        for url in [
            "https://u:hunter2@h",
            "https://u:hun/ter2@h:9091",
            "https://u:hun#ter2@h",
            "https://u:hun@ter2@h",
            "u:hun/ter2@h",
        ] {
            let shown = format!("{:?}", Server::new(url).basic_auth("u", "hunter2"));
            assert!(
                !shown.contains("hunter2") && !shown.contains("ter2"),
                "{shown}"
            );
            assert!(shown.contains("***"), "{shown}");
        }
    }

    #[test]
    fn a_url_converts_into_a_server_with_nothing_else() {
        let server: Server = " http://h:9091 ".into();
        assert_eq!(server, Server::new("http://h:9091"));
        assert_eq!(server.url, "http://h:9091");
        assert_eq!(server.ca_file, None);
        assert_eq!(Server::from(String::from("http://h")).url, "http://h");
    }
}
