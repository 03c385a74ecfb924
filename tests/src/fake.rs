//! An in-process fake gateway on loopback, for what a real Pushgateway cannot be made to do:
//! never answer, hang up, answer slowly, with a 5xx, a redirect or a body cut short, or show
//! the raw requests it received.

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a [`FakeGateway`] does with each request.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Accepts the connection and never answers.
    Blackhole,
    /// Answers every request with this status and body.
    Status(u16, &'static str),
    /// Keeps every request (see [`FakeGateway::requests`]) and answers each with 200.
    Record,
    /// Keeps every request and answers each with `code`, with a `Retry-After` header when
    /// given: an overloaded server (429, 503) or one that refuses what it gets (400).
    RecordStatus {
        /// The status.
        code: u16,
        /// The `Retry-After` value, e.g. `"120"`.
        retry_after: Option<&'static str>,
    },
    /// Reads each request, then answers 200 only after this long: a slow gateway.
    Slow(Duration),
    /// Closes every connection at once, without an answer; with `answer_first`, the first
    /// connection's request is answered 200 first: a gateway that worked and then went away.
    HangUp {
        /// Answer the first connection.
        answer_first: bool,
    },
    /// Keeps every request and answers each with the redirect `code` (301, 302, 307, 308) to
    /// `location`: what a real Pushgateway never does to a well-formed push, but a proxy or a
    /// moved server in front of it may.
    Redirect {
        /// The status.
        code: u16,
        /// The `Location` header's value.
        location: String,
    },
    /// Answers every request with this status and a `Content-Length` for the whole body, but
    /// sends only its first `sent` bytes and then nothing more: an answer that trickles.
    Truncated {
        /// The status.
        code: u16,
        /// The whole body, as announced.
        body: &'static str,
        /// How many of its bytes are sent.
        sent: usize,
    },
}

/// One request received by a [`FakeGateway`] started with [`Behaviour::Record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `PUT`, `POST`, `DELETE`, ...
    pub method: String,
    /// The request target, e.g. `/metrics/job/x`.
    pub path: String,
    /// Every header line as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body as sent (still compressed if it was), de-chunked.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A loopback server for what a real Pushgateway cannot be made to do (never answer, answer
/// 503, show the raw requests). Runs until the test process ends.
pub struct FakeGateway {
    port: u16,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    connections: Arc<AtomicUsize>,
}

impl FakeGateway {
    /// Starts one on a free loopback port.
    pub fn start(behaviour: Behaviour) -> FakeGateway {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::clone(&connections);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                let earlier = accepted.fetch_add(1, Ordering::SeqCst);
                let plain = |code, body| Reply {
                    code,
                    body,
                    sent: body.len(),
                    delay: Duration::ZERO,
                    record: false,
                    once: false,
                    retry_after: None,
                    location: None,
                };
                let reply = match &behaviour {
                    Behaviour::Blackhole => {
                        held.push(stream);
                        continue;
                    }
                    Behaviour::HangUp { answer_first } if *answer_first && earlier == 0 => Reply {
                        once: true,
                        ..plain(200, "")
                    },
                    Behaviour::HangUp { .. } => continue,
                    Behaviour::Status(code, body) => plain(*code, body),
                    Behaviour::Truncated { code, body, sent } => Reply {
                        sent: *sent,
                        ..plain(*code, body)
                    },
                    Behaviour::Slow(delay) => Reply {
                        delay: *delay,
                        ..plain(200, "")
                    },
                    Behaviour::Record => Reply {
                        record: true,
                        ..plain(200, "")
                    },
                    Behaviour::Redirect { code, location } => Reply {
                        record: true,
                        location: Some(location.clone()),
                        ..plain(*code, "moved")
                    },
                    Behaviour::RecordStatus { code, retry_after } => Reply {
                        record: true,
                        retry_after: *retry_after,
                        ..plain(*code, "refused by the fake")
                    },
                };
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || serve(stream, &reply, &recorded));
            }
        });
        FakeGateway {
            port,
            requests,
            connections,
        }
    }

    /// The connections accepted so far: one per attempt for a client that does not keep the
    /// connection alive (as with [`Behaviour::HangUp`]).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests received so far, in order ([`Behaviour::Record`],
    /// [`Behaviour::RecordStatus`] and [`Behaviour::Redirect`] only; empty otherwise).
    /// A request is kept before it is answered, so once a job has exited, everything it sent
    /// and saw answered is here.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("recorder poisoned").clone()
    }
}

/// How a fake answers each request on a connection.
struct Reply {
    code: u16,
    body: &'static str,
    /// How many bytes of `body` are sent (the `Content-Length` announces all of them).
    sent: usize,
    delay: Duration,
    /// Keep the requests (for [`FakeGateway::requests`]).
    record: bool,
    /// Answer one request, then close the connection.
    once: bool,
    /// A `Retry-After` header to send.
    retry_after: Option<&'static str>,
    /// A `Location` header to send.
    location: Option<String>,
}

/// Serves one connection (keep-alive): reads each request whole, keeps it when recording,
/// waits `delay`, answers, until the client closes the connection.
fn serve(stream: std::net::TcpStream, reply: &Reply, requests: &Mutex<Vec<RecordedRequest>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = std::io::BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        if reply.record {
            requests.lock().expect("recorder poisoned").push(request);
        }
        std::thread::sleep(reply.delay);
        let close = if reply.once {
            "Connection: close\r\n"
        } else {
            ""
        };
        let retry_after = reply
            .retry_after
            .map(|value| format!("Retry-After: {value}\r\n"))
            .unwrap_or_default();
        let location = reply
            .location
            .as_ref()
            .map(|value| format!("Location: {value}\r\n"))
            .unwrap_or_default();
        let answer = format!(
            "HTTP/1.1 {} Fake\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{retry_after}{location}{close}\r\n{}",
            reply.code,
            reply.body.len(),
            reply.body.get(..reply.sent).unwrap_or(reply.body)
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
        if reply.sent < reply.body.len() {
            // The rest never comes; the connection stays open until the client gives up.
            let mut reader = reader;
            let _ = std::io::Read::read_to_end(&mut reader, &mut Vec::new());
            return;
        }
        if reply.once {
            return;
        }
    }
}

/// One HTTP/1.1 request with its body (by `Content-Length` or chunked); `None` when the
/// connection ends first.
fn read_request(reader: &mut impl std::io::BufRead) -> Option<RecordedRequest> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut request = RecordedRequest {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            if reader.read_line(&mut size).ok()? == 0 {
                return None;
            }
            let size = size.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16).ok()?;
            let mut chunk = vec![0; size + 2]; // the data and its CRLF
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break; // no trailers are sent by the clients under test
            }
            chunk.truncate(size);
            request.body.extend_from_slice(&chunk);
        }
    } else {
        let length = request
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        request.body = vec![0; length];
        reader.read_exact(&mut request.body).ok()?;
    }
    Some(request)
}
