//! One request to a server: its body, building and sending it with the server's agent, and
//! turning what went wrong into a [`PushError`] a user can act on.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use ureq::Agent;
use ureq::http::Response;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, DefaultConnector};

use crate::error::PushError;
use crate::redact::redact_url;
use crate::settings::env::ServerVariables;
use crate::transport::auth::Auth;
use crate::transport::tls::TlsSettings;
use crate::transport::whole_request::{self, WholeRequest};

/// Bodies larger than this are sent gzip-compressed.
const GZIP_ABOVE: usize = 1024;
/// How much of an error answer is read, at most.
const ERROR_BODY_READ: usize = 4096;
/// How much of an error answer is kept for the error message.
const ERROR_BODY_LIMIT: usize = 300;

/// What to send to a Pushgateway group.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Request<'a> {
    Put(Body<'a>),
    Post(Body<'a>),
    Delete,
}

/// An exposition to send: its bytes, in the format its `Content-Type` names (the text format,
/// or the delimited protobuf one; see `encode/exposition.rs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Body<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) content_type: &'static str,
}

/// What came of a request: its result, and what the server asked of the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exchange {
    pub(crate) result: Result<(), PushError>,
    /// The `Retry-After` of the last answer (429 or 503), when it had one.
    pub(crate) retry_after: Option<Duration>,
}

impl Exchange {
    /// Nothing needed sending, or it was sent and taken.
    pub(crate) fn done() -> Exchange {
        Exchange {
            result: Ok(()),
            retry_after: None,
        }
    }

    /// It failed with `error`, and the server asked for nothing.
    pub(crate) fn failed(error: PushError) -> Exchange {
        Exchange {
            result: Err(error),
            retry_after: None,
        }
    }
}

/// A request body and how it is encoded.
pub(crate) struct Payload {
    pub(crate) bytes: Vec<u8>,
    pub(crate) content_type: &'static str,
    pub(crate) content_encoding: Option<&'static str>,
    /// Further headers the protocol requires.
    pub(crate) headers: &'static [(&'static str, &'static str)],
}

impl Payload {
    /// An exposition for the Pushgateway, gzip-compressed when large (whatever its format).
    fn exposition(body: Body<'_>) -> Payload {
        let encoded = Encoded::of(body.bytes);
        Payload {
            bytes: encoded.bytes,
            content_type: body.content_type,
            content_encoding: encoded.gzip.then_some("gzip"),
            headers: &[],
        }
    }
}

impl Request<'_> {
    /// The HTTP method and body.
    pub(crate) fn encode(self) -> (&'static str, Option<Payload>) {
        match self {
            Request::Put(body) => ("PUT", Some(Payload::exposition(body))),
            Request::Post(body) => ("POST", Some(Payload::exposition(body))),
            Request::Delete => ("DELETE", None),
        }
    }
}

/// What a request goes through: the agent (TLS, timeouts), the credentials, and the
/// variables that configure both (for messages).
#[derive(Clone, Copy)]
pub(crate) struct Connection<'a> {
    pub(crate) agent: &'a Agent,
    pub(crate) auth: &'a Auth,
    pub(crate) variables: &'static ServerVariables,
}

/// Sends `method` with `payload` to `url` once, taking at most `left`; a failure becomes a
/// [`PushError`] naming the variables to check.
pub(crate) fn attempt(
    connection: Connection<'_>,
    url: &str,
    method: &str,
    payload: Option<&Payload>,
    left: Duration,
) -> Exchange {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    match connection.auth.header() {
        Ok(Some(authorization)) => request = request.header("Authorization", authorization),
        Ok(None) => {}
        Err(error) => return Exchange::failed(error),
    }
    if let Some(payload) = payload {
        request = request.header("Content-Type", payload.content_type);
        if let Some(encoding) = payload.content_encoding {
            request = request.header("Content-Encoding", encoding);
        }
        for (name, value) in payload.headers {
            request = request.header(*name, *value);
        }
    }
    let bytes = payload.map(|p| p.bytes.clone()).unwrap_or_default();
    let request = match request.body(bytes) {
        Ok(request) => request,
        Err(e) => {
            return Exchange::failed(PushError::Transport {
                reason: format!("cannot build the request: {e}"),
            });
        }
    };
    // The attempt may use what is left of the deadline, no more.
    let request = connection
        .agent
        .configure_request(request)
        .timeout_global(Some(left))
        .build();
    check(connection.agent.run(request), connection.variables)
}

/// The agent for one server: every timeout set (ureq sets none by default), each bounded by
/// the deadline (the global one, narrowed per attempt, makes the deadline total).
pub(crate) fn agent(deadline: Duration, tls: &TlsSettings) -> Agent {
    let deadline = Some(deadline);
    let config = Agent::config_builder()
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
        .output_buffer_size(whole_request::OUTPUT_BUFFER)
        .build();
    // ureq's own chain (TCP, TLS), then one write per request (see `whole_request`).
    Agent::with_parts(
        config,
        DefaultConnector::new().chain(WholeRequest),
        DefaultResolver::default(),
    )
}

/// A request body, gzip-compressed when large.
struct Encoded {
    bytes: Vec<u8>,
    gzip: bool,
}

impl Encoded {
    fn of(body: &[u8]) -> Encoded {
        if body.len() > GZIP_ABOVE {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            if encoder.write_all(body).is_ok()
                && let Ok(bytes) = encoder.finish()
            {
                return Encoded { bytes, gzip: true };
            }
        }
        Encoded {
            bytes: body.to_vec(),
            gzip: false,
        }
    }
}

fn check(
    answer: Result<Response<ureq::Body>, ureq::Error>,
    variables: &ServerVariables,
) -> Exchange {
    let mut response = match answer {
        Ok(response) => response,
        Err(error) => return Exchange::failed(transport_error(error, variables)),
    };
    let code = response.status().as_u16();
    if (200..300).contains(&code) {
        return Exchange::done();
    }
    if (300..400).contains(&code) {
        // The agent follows no redirect (`max_redirects(0)`): a redirect could carry the
        // credentials to another server. Its `Location` is shown without any userinfo.
        let location = response
            .headers()
            .get("location")
            .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
            .filter(|location| !location.is_empty())
            .map(|location| truncate(&redact_url(&location), ERROR_BODY_LIMIT));
        return Exchange::failed(PushError::Redirect { code, location });
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, std::time::SystemTime::now()));
    let body = error_body(response.body_mut());
    Exchange {
        result: Err(PushError::Status {
            code,
            body: truncate(body.trim(), ERROR_BODY_LIMIT),
        }),
        retry_after,
    }
}

/// A `Retry-After` value: delay-seconds, or an HTTP date (a date in the past means now).
fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
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

fn transport_error(error: ureq::Error, variables: &ServerVariables) -> PushError {
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
                    reason: crate::transport::tls::describe(tls, variables),
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
            reason: crate::transport::tls::describe(&tls, variables),
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
        assert!(!Encoded::of(b"x 1\n").gzip);
        let large = "x 1\n".repeat(1000);
        let body = Encoded::of(large.as_bytes());
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
    fn retry_after_reads_seconds_and_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "-1", "soon", "1.5", "99999999999999999999999"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn a_redirect_is_not_followed_and_names_its_location_without_credentials() {
        let answer = |code: u16, location: Option<&str>| {
            let mut response = Response::builder().status(code);
            if let Some(location) = location {
                response = response.header("Location", location);
            }
            response.body(ureq::Body::builder().data("moved")).unwrap()
        };
        let exchange = check(
            Ok(answer(308, Some("https://batch:s3cret@elsewhere:9091/x"))),
            &crate::settings::env::GATEWAY,
        );
        let error = exchange.result.unwrap_err();
        assert_eq!(
            error,
            PushError::Redirect {
                code: 308,
                location: Some("https://***@elsewhere:9091/x".into())
            }
        );
        assert!(!error.is_retryable());
        let shown = error.to_string();
        assert!(shown.contains("HTTP 308"), "{shown}");
        assert!(shown.contains("https://***@elsewhere:9091/x"), "{shown}");
        assert!(shown.contains("not followed"), "{shown}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("batch"),
            "{shown}"
        );
        let exchange = check(Ok(answer(302, None)), &crate::settings::env::GATEWAY);
        assert_eq!(
            exchange.result,
            Err(PushError::Redirect {
                code: 302,
                location: None
            })
        );
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("abc", 2), "ab…");
        assert_eq!(truncate("äö", 5), "äö");
    }
}
