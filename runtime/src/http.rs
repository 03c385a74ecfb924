//! One request to the gateway: building it, retrying it within the deadline, and turning what
//! went wrong into a [`PushError`] a user can act on.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use ureq::Agent;
use ureq::http::Response;

use crate::auth::Auth;
use crate::error::PushError;
use crate::retry::Backoff;
use crate::tls::TlsSettings;

/// Content type of the text exposition format the Pushgateway reads.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Bodies larger than this are sent gzip-compressed.
const GZIP_ABOVE: usize = 1024;
/// How much of an error answer is read, at most.
const ERROR_BODY_READ: usize = 4096;
/// How much of an error answer is kept for the error message.
const ERROR_BODY_LIMIT: usize = 300;

/// What to send to the group.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Request<'a> {
    Put(&'a str),
    Post(&'a str),
    Delete,
}

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retries {
    /// Retry retryable failures with backoff as long as the deadline allows.
    WithinDeadline,
    /// One attempt and at most one quick retry: for a gateway that has not answered all run.
    Quick,
}

/// Sends `request` to `url`, retrying as `retries` and `deadline` allow; returns by
/// `deadline`.
pub(crate) fn send(
    agent: &Agent,
    url: &str,
    auth: &Auth,
    request: Request<'_>,
    deadline: Instant,
    retries: Retries,
) -> Result<(), PushError> {
    let (method, exposition) = match request {
        Request::Put(exposition) => ("PUT", Some(exposition)),
        Request::Post(exposition) => ("POST", Some(exposition)),
        Request::Delete => ("DELETE", None),
    };
    let body = exposition.map(Body::encode);
    let mut backoff = Backoff::new(deadline);
    let mut attempts = 0u32;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(PushError::Timeout);
        }
        attempts = attempts.saturating_add(1);
        let result = attempt(agent, url, auth, method, body.as_ref(), left);
        match &result {
            Err(error) if error.is_retryable() => {
                let out_of_attempts = retries == Retries::Quick && attempts >= 2;
                if out_of_attempts || !backoff.wait() {
                    return result;
                }
            }
            _ => return result,
        }
    }
}

fn attempt(
    agent: &Agent,
    url: &str,
    auth: &Auth,
    method: &str,
    body: Option<&Body>,
    left: Duration,
) -> Result<(), PushError> {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    if let Some(authorization) = auth.header()? {
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
        reason: format!("cannot build the request: {e}"),
    })?;
    // The attempt may use what is left of the deadline, no more.
    let request = agent
        .configure_request(request)
        .timeout_global(Some(left))
        .build();
    check(agent.run(request))
}

/// The agent for one gateway: every timeout set (ureq sets none by default), each bounded by
/// the deadline (the global one, narrowed per attempt, makes the deadline total).
pub(crate) fn agent(deadline: Duration, tls: &TlsSettings) -> Agent {
    let deadline = Some(deadline);
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        // The gateway is normally inside the cluster; proxy variables are not followed.
        .proxy(None)
        .tls_config(tls.to_ureq())
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
}

/// A request body, gzip-compressed when large.
struct Body {
    bytes: Vec<u8>,
    gzip: bool,
}

impl Body {
    fn encode(exposition: &str) -> Body {
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
}

fn check(answer: Result<Response<ureq::Body>, ureq::Error>) -> Result<(), PushError> {
    let mut response = answer.map_err(transport_error)?;
    let code = response.status().as_u16();
    if (200..300).contains(&code) {
        return Ok(());
    }
    let body = error_body(response.body_mut());
    Err(PushError::Status {
        code,
        body: truncate(body.trim(), ERROR_BODY_LIMIT),
    })
}

/// The start of an error answer: at most [`ERROR_BODY_READ`] bytes, and whatever arrived
/// before the connection failed or the deadline passed (a long or slow answer still says why).
fn error_body(body: &mut ureq::Body) -> String {
    let mut reader = body.as_reader();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 1024];
    while bytes.len() < ERROR_BODY_READ {
        match reader.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    bytes.truncate(ERROR_BODY_READ);
    String::from_utf8_lossy(&bytes).into_owned()
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
                    reason: io.to_string(),
                },
            }
        }
        ureq::Error::Tls(reason) => PushError::Tls {
            reason: reason.to_owned(),
        },
        ureq::Error::Rustls(tls) => PushError::Tls {
            reason: crate::tls::describe(&tls),
        },
        // No URL reaching ureq holds credentials (they are taken out of it by `url.rs`), so
        // its messages are safe to show.
        other => PushError::Transport {
            reason: other.to_string(),
        },
    }
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
    fn large_bodies_are_gzipped_small_ones_not() {
        assert!(!Body::encode("x 1\n").gzip);
        let large = "x 1\n".repeat(1000);
        let body = Body::encode(&large);
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
