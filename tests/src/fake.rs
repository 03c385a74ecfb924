//! An in-process fake gateway on loopback, for what a real Pushgateway cannot be made to do:
//! never answer, hang up, answer slowly, with a 5xx, a redirect or a body cut short, be busy
//! for a while and say when to come back (`Retry-After`), or show the raw requests it received.

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    /// Keeps every request; answers `code` (429, 503) with a `Retry-After` to every request
    /// that comes before the time that header names (fixed at the first request), and 200 to
    /// every request from then on: a server busy for a while that says when to come back and
    /// refuses whoever comes earlier. [`FakeGateway::refused`] counts the refusals, so a
    /// client that waits as asked is refused once, and one that comes back early more often.
    BusyUntil {
        /// The status of a refusal.
        code: u16,
        /// How long it is busy from the first request, in seconds.
        seconds: u64,
        /// The `Retry-After` is an HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`, busy until the
        /// first whole second at least `seconds` after the first request) instead of
        /// delay-seconds (RFC 9110, 10.2.3).
        http_date: bool,
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

/// The shared state of a [`Behaviour::BusyUntil`] server, across its connections.
struct Busy {
    code: u16,
    seconds: u64,
    http_date: bool,
    /// Until when it is busy: set by the first request.
    until: Mutex<Option<SystemTime>>,
    refused: Arc<AtomicUsize>,
}

impl Busy {
    /// The status and `Retry-After` value for a request arriving now.
    fn answer(&self) -> (u16, Option<String>) {
        let now = SystemTime::now();
        let mut until = self.until.lock().expect("busy state poisoned");
        let until = *until.get_or_insert_with(|| {
            let until = now + Duration::from_secs(self.seconds);
            if self.http_date {
                whole_second_from(until)
            } else {
                until
            }
        });
        let Ok(left) = until.duration_since(now) else {
            return (200, None);
        };
        if left.is_zero() {
            return (200, None);
        }
        self.refused.fetch_add(1, Ordering::SeqCst);
        let value = if self.http_date {
            http_date(until)
        } else {
            // Rounded up: an early client is never told it may come before the time.
            left.as_secs_f64().ceil().to_string()
        };
        (self.code, Some(value))
    }
}

/// The first whole second (since the Unix epoch) at or after `time`: what an HTTP-date can say.
fn whole_second_from(time: SystemTime) -> SystemTime {
    let since = time.duration_since(UNIX_EPOCH).expect("after 1970");
    let seconds = since.as_secs() + u64::from(since.subsec_nanos() > 0);
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// `time` (whole seconds) as an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let days = seconds / 86_400;
    let (hour, minute, second) = (seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = WEEKDAYS[usize::try_from(days % 7).expect("below 7")];
    let month = MONTHS[usize::try_from(month - 1).expect("below 12")];
    format!("{weekday}, {day:02} {month} {year} {hour:02}:{minute:02}:{second:02} GMT")
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
    refused: Arc<AtomicUsize>,
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
        let refused = Arc::new(AtomicUsize::new(0));
        let busy = match &behaviour {
            Behaviour::BusyUntil {
                code,
                seconds,
                http_date,
            } => Some(Arc::new(Busy {
                code: *code,
                seconds: *seconds,
                http_date: *http_date,
                until: Mutex::new(None),
                refused: Arc::clone(&refused),
            })),
            _ => None,
        };
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
                    busy: None,
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
                    Behaviour::BusyUntil { .. } => Reply {
                        record: true,
                        busy: busy.clone(),
                        ..plain(200, "")
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
            refused,
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

    /// The requests a [`Behaviour::BusyUntil`] server refused so far, for coming before the
    /// time it named (0 for every other behaviour).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// The requests received so far, in order ([`Behaviour::Record`],
    /// [`Behaviour::RecordStatus`], [`Behaviour::Redirect`] and [`Behaviour::BusyUntil`] only;
    /// empty otherwise).
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
    /// Busy for a while: the status and `Retry-After` of each answer come from it instead.
    busy: Option<Arc<Busy>>,
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
        let (code, body, busy_retry_after) = match &reply.busy {
            Some(busy) => match busy.answer() {
                (200, _) => (200, "", None),
                (code, retry_after) => (code, "busy, come back later", retry_after),
            },
            None => (reply.code, reply.body, None),
        };
        // A busy server's answers are whole; only `Truncated` sends less than it announces.
        let sent = if reply.busy.is_some() {
            body.len()
        } else {
            reply.sent
        };
        let close = if reply.once {
            "Connection: close\r\n"
        } else {
            ""
        };
        let retry_after = busy_retry_after
            .or_else(|| reply.retry_after.map(str::to_owned))
            .map(|value| format!("Retry-After: {value}\r\n"))
            .unwrap_or_default();
        let location = reply
            .location
            .as_ref()
            .map(|value| format!("Location: {value}\r\n"))
            .unwrap_or_default();
        let answer = format!(
            "HTTP/1.1 {} Fake\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{retry_after}{location}{close}\r\n{}",
            code,
            body.len(),
            body.get(..sent).unwrap_or(body)
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
        if sent < body.len() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates() {
        let at = |seconds| http_date(UNIX_EPOCH + Duration::from_secs(seconds));
        // RFC 9110's example, the epoch, and a leap day.
        assert_eq!(at(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(at(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(at(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        let half = UNIX_EPOCH + Duration::from_millis(1500);
        assert_eq!(whole_second_from(half), UNIX_EPOCH + Duration::from_secs(2));
    }
}
