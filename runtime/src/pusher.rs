//! One HTTP client for one Pushgateway group: push (PUT), add (POST), delete.

use std::io::{ErrorKind, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use ureq::Agent;
use ureq::http::{Response, Uri};

use crate::auth::Auth;
use crate::config::{DEFAULT_TIMEOUT, var};
use crate::error::PushError;
use crate::grouping;
use crate::names;
use crate::retry::Backoff;
use crate::tls::TlsSettings;

/// Content type of the text exposition format the Pushgateway reads.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Bodies larger than this are sent gzip-compressed.
const GZIP_ABOVE: usize = 1024;
/// How much of an error answer is kept for the error message.
const ERROR_BODY_LIMIT: usize = 300;

/// A client for one group of one Pushgateway, in the style of client_golang's `push.Pusher`.
///
/// The background pusher uses one built from [`Config`](crate::Config); build your own to push
/// elsewhere or by hand. Setters that read files check them at once.
///
/// ```no_run
/// use std::time::Duration;
///
/// let pusher = pushtimer::Pusher::new("https://pushgateway.monitoring:9091", "nightly_etl")?
///     .grouping("instance", "worker-3")?
///     .ca_file("/etc/pushgateway/ca.pem")?
///     .basic_auth("batch", "secret")
///     .timeout(Duration::from_secs(2));
/// pusher.push(&pushtimer::render())?; // PUT: replace the group
/// pusher.add(&pushtimer::render())?;  // POST: replace only these families
/// pusher.delete()?;                   // DELETE: remove the group
/// # Ok::<(), pushtimer::PushError>(())
/// ```
///
/// Every request: verification of the gateway's certificate always on; redirects not followed;
/// proxy variables not followed; bodies above 1 KiB gzip-compressed; connection failures,
/// timeouts and 5xx answers retried with jittered exponential backoff, all within the
/// [`timeout`](Self::timeout); 4xx answers never retried.
#[derive(Debug)]
pub struct Pusher {
    /// `scheme://host[:port][/path]`: no trailing `/`, no credentials.
    base: String,
    /// The path of the group: `/metrics/job/<job>{/<label>/<value>}`.
    group_path: String,
    timeout: Duration,
    auth: Auth,
    tls: TlsSettings,
    /// Built on first use, so setters stay cheap and chainable.
    agent: OnceLock<Agent>,
}

impl Pusher {
    /// A pusher for the group `job` at the Pushgateway `gateway` (an `http://` or `https://`
    /// base URL, optionally with a path prefix, optionally with `user:password@` for basic
    /// auth). Fails when the URL is not usable or the job is empty; the error names
    /// `PUSHGATEWAY_URL` or `PUSHGATEWAY_JOB`.
    pub fn new(gateway: &str, job: &str) -> Result<Self, PushError> {
        let gateway = gateway.trim().trim_end_matches('/');
        let invalid = |reason: String| PushError::InvalidConfig {
            setting: var::URL,
            reason: format!("{:?} {reason}", redact(gateway)),
        };
        let uri: Uri = gateway
            .parse()
            .map_err(|e| invalid(format!("is not a URL ({e})")))?;
        let scheme = uri.scheme_str().unwrap_or("");
        if scheme != "http" && scheme != "https" {
            return Err(invalid("must start with http:// or https://".into()));
        }
        let Some(authority) = uri.authority() else {
            return Err(invalid("has no host".into()));
        };
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("has no host".into()));
        }
        if uri.query().is_some() {
            return Err(invalid("must not have a query".into()));
        }
        if job.is_empty() {
            return Err(PushError::InvalidConfig {
                setting: var::JOB,
                reason: "the job name must not be empty".into(),
            });
        }
        let (userinfo, host_port) = match authority.as_str().rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority.as_str()),
        };
        let auth = match userinfo {
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                Auth::basic(&percent_decode(user), &percent_decode(password))
            }
            None => Auth::None,
        };
        let path = uri.path().trim_end_matches('/');
        Ok(Pusher {
            base: format!("{scheme}://{host_port}{path}"),
            group_path: format!("/metrics{}", grouping::segment("job", job)),
            timeout: DEFAULT_TIMEOUT,
            auth,
            tls: TlsSettings::default(),
            agent: OnceLock::new(),
        })
    }

    /// Adds a grouping label after the job: `/metrics/job/<job>/<name>/<value>`. Any value
    /// works (awkward ones are sent base64-encoded); the name must be a valid label name other
    /// than `job`.
    pub fn grouping(mut self, name: &str, value: &str) -> Result<Self, PushError> {
        check_grouping_name(name)?;
        self.group_path.push_str(&grouping::segment(name, value));
        Ok(self)
    }

    /// Total deadline of one push, retries included. Default: 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.agent = OnceLock::new();
        self
    }

    /// Sends HTTP basic auth. Over plain `http://` this works, but the password travels in
    /// clear text.
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        self.auth = Auth::basic(username, password);
        self
    }

    /// Sends `Authorization: Bearer <token>`, the token read (trimmed) from `path` and read
    /// again whenever the file changes. The file is read once now, to fail early.
    pub fn bearer_token_file(mut self, path: impl AsRef<Path>) -> Result<Self, PushError> {
        self.auth = Auth::bearer_file(path.as_ref())?;
        Ok(self)
    }

    /// Trusts exactly the CA certificates in this PEM file for the gateway's certificate
    /// (instead of the public Mozilla roots). Checked now.
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Result<Self, PushError> {
        self.tls.trust_ca_file(path.as_ref())?;
        self.agent = OnceLock::new();
        Ok(self)
    }

    /// Presents a client certificate (mutual TLS): a PEM chain and its PEM key (PKCS#8, PKCS#1
    /// or SEC1). Checked now, including that the key belongs to the certificate.
    pub fn client_cert_files(
        mut self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, PushError> {
        self.tls.client_cert_files(cert.as_ref(), key.as_ref())?;
        self.agent = OnceLock::new();
        Ok(self)
    }

    /// The deadline set with [`timeout`](Self::timeout).
    pub fn deadline(&self) -> Duration {
        self.timeout
    }

    /// The group's URL, without credentials.
    pub fn url(&self) -> String {
        format!("{}{}", self.base, self.group_path)
    }

    /// True when credentials would travel over plain `http://`.
    pub(crate) fn sends_credentials_in_clear_text(&self) -> bool {
        self.auth.is_some() && self.base.starts_with("http://")
    }

    /// Replaces the whole group with `exposition` (HTTP PUT).
    pub fn push(&self, exposition: &str) -> Result<(), PushError> {
        self.send(Request::Put(exposition), self.deadline_from_now())
    }

    /// Replaces only the metric families in `exposition`, keeping the group's others (POST).
    pub fn add(&self, exposition: &str) -> Result<(), PushError> {
        self.send(Request::Post(exposition), self.deadline_from_now())
    }

    /// Deletes the whole group (HTTP DELETE, no body).
    pub fn delete(&self) -> Result<(), PushError> {
        self.send(Request::Delete, self.deadline_from_now())
    }

    fn deadline_from_now(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// Sends `request`, retrying as long as `deadline` allows; never later than `deadline`.
    pub(crate) fn send(&self, request: Request<'_>, deadline: Instant) -> Result<(), PushError> {
        let (method, exposition) = match request {
            Request::Put(exposition) => ("PUT", Some(exposition)),
            Request::Post(exposition) => ("POST", Some(exposition)),
            Request::Delete => ("DELETE", None),
        };
        let body = exposition.map(encode_body);
        let mut backoff = Backoff::new(deadline);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PushError::Timeout);
            }
            let result = self.attempt(method, body.as_ref(), left);
            match &result {
                Err(error) if error.is_retryable() => {
                    if !backoff.wait() {
                        return result;
                    }
                }
                _ => return result,
            }
        }
    }

    fn attempt(&self, method: &str, body: Option<&Body>, left: Duration) -> Result<(), PushError> {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(self.url());
        if let Some(authorization) = self.auth.header()? {
            request = request.header("Authorization", authorization);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", TEXT_FORMAT);
            if body.gzip {
                request = request.header("Content-Encoding", "gzip");
            }
        }
        let payload = body.map(|b| b.bytes.clone()).unwrap_or_default();
        let request = request.body(payload).map_err(|e| PushError::Transport {
            reason: redact(&e.to_string()),
        })?;
        // The attempt may use what is left of the deadline, no more.
        let agent = self.agent();
        let request = agent
            .configure_request(request)
            .timeout_global(Some(left))
            .build();
        check(agent.run(request))
    }

    fn agent(&self) -> &Agent {
        self.agent.get_or_init(|| {
            // ureq sets no timeouts by default: every one is set here, each bounded by the
            // deadline (the global one, narrowed per attempt, makes the deadline total).
            let deadline = Some(self.timeout);
            Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                // The gateway is normally inside the cluster; proxy variables are not followed.
                .proxy(None)
                .tls_config(self.tls.to_ureq())
                .user_agent(concat!("pushtimer/", env!("CARGO_PKG_VERSION")))
                .timeout_global(deadline)
                .timeout_per_call(deadline)
                .timeout_resolve(deadline)
                .timeout_connect(deadline)
                .timeout_send_request(deadline)
                .timeout_await_100(deadline)
                .timeout_send_body(deadline)
                .timeout_recv_response(deadline)
                .timeout_recv_body(deadline)
                .timeout_per_read(deadline)
                .timeout_per_write(deadline)
                .build()
                .new_agent()
        })
    }
}

/// Grouping label names follow the label name rules, and `job` is already the job.
pub(crate) fn check_grouping_name(name: &str) -> Result<(), PushError> {
    if name == "job" || !names::is_valid_label_name(name) {
        return Err(PushError::InvalidConfig {
            setting: var::GROUPING,
            reason: format!(
                "{name:?} is not a usable grouping label name ([a-zA-Z_][a-zA-Z0-9_]*, not `__*`, not `job`)"
            ),
        });
    }
    Ok(())
}

/// What to send to the group.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Request<'a> {
    Put(&'a str),
    Post(&'a str),
    Delete,
}

/// A request body, gzip-compressed when large.
struct Body {
    bytes: Vec<u8>,
    gzip: bool,
}

fn encode_body(exposition: &str) -> Body {
    if exposition.len() > GZIP_ABOVE {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        if encoder.write_all(exposition.as_bytes()).is_ok()
            && let Ok(bytes) = encoder.finish()
        {
            return Body { bytes, gzip: true };
        }
    }
    Body {
        bytes: exposition.as_bytes().to_vec(),
        gzip: false,
    }
}

fn check(answer: Result<Response<ureq::Body>, ureq::Error>) -> Result<(), PushError> {
    let mut response = answer.map_err(transport_error)?;
    let code = response.status().as_u16();
    if (200..300).contains(&code) {
        return Ok(());
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    Err(PushError::Status {
        code,
        body: truncate(body.trim(), ERROR_BODY_LIMIT),
    })
}

fn transport_error(error: ureq::Error) -> PushError {
    match error {
        ureq::Error::Timeout(_) => PushError::Timeout,
        ureq::Error::HostNotFound => PushError::HostNotFound,
        ureq::Error::ConnectionFailed => PushError::ConnectionRefused,
        ureq::Error::Io(io) => {
            if let Some(tls) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return PushError::Tls {
                    reason: crate::tls::describe(tls),
                };
            }
            // std reports every getaddrinfo failure as an uncategorized error with this text.
            if io.to_string().contains("failed to lookup address") {
                return PushError::HostNotFound;
            }
            match io.kind() {
                ErrorKind::ConnectionRefused => PushError::ConnectionRefused,
                ErrorKind::TimedOut | ErrorKind::WouldBlock => PushError::Timeout,
                _ => PushError::Transport {
                    reason: redact(&io.to_string()),
                },
            }
        }
        ureq::Error::Tls(reason) => PushError::Tls {
            reason: reason.to_owned(),
        },
        ureq::Error::Rustls(tls) => PushError::Tls {
            reason: crate::tls::describe(&tls),
        },
        other => PushError::Transport {
            reason: redact(&other.to_string()),
        },
    }
}

/// `%XX` sequences decoded (userinfo in a URL is percent-encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match (bytes.get(i), bytes.get(i + 1..i + 3)) {
            (Some(b'%'), Some(hex)) => std::str::from_utf8(hex)
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok()),
            _ => None,
        };
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.extend(bytes.get(i).copied());
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with the userinfo of any `scheme://user:password@host` removed.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ', '"', '?', '#']).unwrap_or(tail.len());
        match tail.get(..authority_end).and_then(|auth| auth.rfind('@')) {
            Some(userinfo_end) => {
                out.push_str("***@");
                rest = tail.get(userinfo_end + 1..).unwrap_or("");
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(Pusher::new("http://localhost:9091", "j").is_ok());
        assert!(Pusher::new("https://gw.example/prefix/", "j").is_ok());
        for bad in [
            "not a url",
            "ftp://host:21",
            "localhost:9091",
            "http://",
            "http://h?x=1",
        ] {
            let error = Pusher::new(bad, "j").unwrap_err();
            assert!(
                error.to_string().contains("PUSHGATEWAY_URL"),
                "{bad}: {error}"
            );
        }
        let error = Pusher::new("http://h", "").unwrap_err();
        assert!(error.to_string().contains("PUSHGATEWAY_JOB"));
    }

    #[test]
    fn group_url_has_no_double_slash() {
        let pusher = Pusher::new("http://h:9091/", "a/b").unwrap();
        assert_eq!(pusher.url(), "http://h:9091/metrics/job@base64/YS9i");
        let pusher = Pusher::new("http://h:9091/prefix/", "j")
            .unwrap()
            .grouping("instance", "")
            .unwrap();
        assert_eq!(
            pusher.url(),
            "http://h:9091/prefix/metrics/job/j/instance@base64/="
        );
    }

    #[test]
    fn grouping_names_are_checked() {
        for bad in ["job", "__x", "a-b", ""] {
            let error = Pusher::new("http://h", "j")
                .unwrap()
                .grouping(bad, "v")
                .unwrap_err();
            assert!(error.to_string().contains("PUSHGATEWAY_GROUPING"), "{bad}");
        }
    }

    #[test]
    fn userinfo_becomes_basic_auth_and_leaves_the_url() {
        let pusher = Pusher::new("https://batch:s%40cret@h:1/x", "j").unwrap();
        assert_eq!(pusher.url(), "https://h:1/x/metrics/job/j");
        assert_eq!(
            pusher.auth.header().unwrap().as_deref(),
            Some(
                Auth::basic("batch", "s@cret")
                    .header()
                    .unwrap()
                    .unwrap()
                    .as_str()
            )
        );
        assert!(!format!("{pusher:?}").contains("cret"));
        assert!(!pusher.sends_credentials_in_clear_text());
        let plain = Pusher::new("http://u:p@h", "j").unwrap();
        assert!(plain.sends_credentials_in_clear_text());
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(redact("https://u:pw@h:1/x"), "https://***@h:1/x");
        assert_eq!(redact("http://h/x@y"), "http://h/x@y");
        assert_eq!(
            redact("a http://u:p@h b https://h2"),
            "a http://***@h b https://h2"
        );
    }

    #[test]
    fn large_bodies_are_gzipped_small_ones_not() {
        assert!(!encode_body("x 1\n").gzip);
        let large = "x 1\n".repeat(1000);
        let body = encode_body(&large);
        assert!(body.gzip);
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&body.bytes[..]),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, large);
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("abc", 2), "ab…");
        assert_eq!(truncate("äö", 5), "äö");
    }
}
