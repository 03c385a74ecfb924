//! One HTTP client for one Pushgateway group: push (PUT), add (POST), delete.

use std::io::ErrorKind;
use std::sync::OnceLock;
use std::time::Duration;

use ureq::Agent;
use ureq::http::Uri;

use crate::config::{DEFAULT_TIMEOUT, var};
use crate::error::PushError;
use crate::grouping;

/// Content type of the text exposition format the Pushgateway reads.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// How much of an error answer is kept for the error message.
const ERROR_BODY_LIMIT: usize = 300;

/// A client for one group of one Pushgateway, in the style of client_golang's `push.Pusher`.
///
/// The background pusher uses one built from [`Config`](crate::Config); build your own to push
/// elsewhere or by hand:
///
/// ```no_run
/// use std::time::Duration;
///
/// let pusher = pushtimer::Pusher::new("http://localhost:9091", "nightly_etl")?
///     .timeout(Duration::from_secs(2));
/// pusher.push(&pushtimer::render())?; // PUT: replace the group
/// pusher.delete()?;                   // remove the group
/// # Ok::<(), pushtimer::PushError>(())
/// ```
#[derive(Debug)]
pub struct Pusher {
    /// `scheme://host[:port][/path]`, without a trailing `/`.
    base: String,
    /// `base`, safe to show: any `user:password@` removed.
    shown: String,
    /// The path of the group: `/metrics/job/<job>...`.
    group_path: String,
    timeout: Duration,
    /// Built on first use, so setters stay cheap and chainable.
    agent: OnceLock<Agent>,
}

impl Pusher {
    /// A pusher for the group `job` at the Pushgateway `gateway` (an `http://` or `https://`
    /// base URL, optionally with a path prefix). Fails when the URL is not usable or the job is
    /// empty; the error names `PUSHGATEWAY_URL` or `PUSHGATEWAY_JOB`.
    pub fn new(gateway: &str, job: &str) -> Result<Self, PushError> {
        let gateway = gateway.trim().trim_end_matches('/');
        let uri: Uri = gateway.parse().map_err(|e| PushError::InvalidConfig {
            setting: var::URL,
            reason: format!("{:?} is not a URL ({e})", redact(gateway)),
        })?;
        let scheme = uri.scheme_str().unwrap_or("");
        if scheme != "http" && scheme != "https" {
            return Err(PushError::InvalidConfig {
                setting: var::URL,
                reason: format!("{:?} must start with http:// or https://", redact(gateway)),
            });
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(PushError::InvalidConfig {
                setting: var::URL,
                reason: format!("{:?} has no host", redact(gateway)),
            });
        }
        if uri.query().is_some() {
            return Err(PushError::InvalidConfig {
                setting: var::URL,
                reason: format!("{:?} must not have a query", redact(gateway)),
            });
        }
        if job.is_empty() {
            return Err(PushError::InvalidConfig {
                setting: var::JOB,
                reason: "the job name must not be empty".into(),
            });
        }
        Ok(Pusher {
            base: gateway.to_owned(),
            shown: redact(gateway),
            group_path: format!("/metrics{}", grouping::segment("job", job)),
            timeout: DEFAULT_TIMEOUT,
            agent: OnceLock::new(),
        })
    }

    /// Total deadline of one request: resolving, connecting, sending and reading the answer.
    /// Default: 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.agent = OnceLock::new();
        self
    }

    /// The deadline set with [`timeout`](Self::timeout).
    pub fn deadline(&self) -> Duration {
        self.timeout
    }

    /// The group's URL, with any credentials removed.
    pub fn url(&self) -> String {
        format!("{}{}", self.shown, self.group_path)
    }

    /// Replaces the whole group with `exposition` (HTTP PUT).
    pub fn push(&self, exposition: &str) -> Result<(), PushError> {
        let answer = self
            .agent()
            .put(self.request_url())
            .header("Content-Type", TEXT_FORMAT)
            .send(exposition);
        self.check(answer)
    }

    /// Replaces only the metric families in `exposition`, keeping the group's others (POST).
    pub fn add(&self, exposition: &str) -> Result<(), PushError> {
        let answer = self
            .agent()
            .post(self.request_url())
            .header("Content-Type", TEXT_FORMAT)
            .send(exposition);
        self.check(answer)
    }

    /// Deletes the whole group (HTTP DELETE, no body).
    pub fn delete(&self) -> Result<(), PushError> {
        let answer = self.agent().delete(self.request_url()).call();
        self.check(answer)
    }

    fn request_url(&self) -> String {
        format!("{}{}", self.base, self.group_path)
    }

    fn agent(&self) -> &Agent {
        self.agent.get_or_init(|| {
            // ureq sets no timeouts by default: every one is set here, each bounded by the
            // deadline (the global one makes the deadline total).
            let deadline = Some(self.timeout);
            Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                // The gateway is normally inside the cluster; proxy variables are not followed.
                .proxy(None)
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

    fn check(
        &self,
        answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(), PushError> {
        let mut response = answer.map_err(Self::transport_error)?;
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
            ureq::Error::Io(io) => match io.kind() {
                ErrorKind::ConnectionRefused => PushError::ConnectionRefused,
                ErrorKind::TimedOut | ErrorKind::WouldBlock => PushError::Timeout,
                _ => PushError::Transport {
                    reason: redact(&io.to_string()),
                },
            },
            ureq::Error::Tls(reason) => PushError::Tls {
                reason: reason.to_owned(),
            },
            ureq::Error::Rustls(tls) => PushError::Tls {
                reason: tls.to_string(),
            },
            other => PushError::Transport {
                reason: redact(&other.to_string()),
            },
        }
    }
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
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(redact("https://u:pw@h:1/x"), "https://***@h:1/x");
        assert_eq!(redact("http://h/x@y"), "http://h/x@y");
        assert_eq!(
            redact("a http://u:p@h b https://h2"),
            "a http://***@h b https://h2"
        );
        let pusher = Pusher::new("https://batch:secret@h", "j").unwrap();
        assert!(!pusher.url().contains("secret"));
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("abc", 2), "ab…");
        assert_eq!(truncate("äö", 5), "äö");
    }
}
