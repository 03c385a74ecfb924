//! One request and its answer: the head read within its size and deadline, parsed, and the
//! answer written within what is left of the deadline.

use super::*;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// `GET` or `HEAD /metrics` (any query string); `gzip` when the client accepts it.
    Metrics {
        head_only: bool,
        gzip: bool,
    },
    NotFound,
    NotAllowed,
    Bad,
    TooLarge,
}

/// Reads a request head (up to its blank line) within `deadline`: `None` when it is longer
/// than [`MAX_HEAD`]; an error when the connection ends, fails or stays silent first.
pub(super) fn read_head(stream: &mut TcpStream, deadline: Instant) -> io::Result<Option<Vec<u8>>> {
    let mut head = vec![0u8; MAX_HEAD];
    let mut filled = 0usize;
    loop {
        let Some(space) = head.get_mut(filled..).filter(|space| !space.is_empty()) else {
            return Ok(None);
        };
        stream.set_read_timeout(Some(left(deadline)?))?;
        let read = match stream.read(space) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        // The blank line may straddle two reads.
        let from = filled.saturating_sub(2);
        filled = filled.saturating_add(read).min(MAX_HEAD);
        if let Some(end) = head.get(from..filled).and_then(end_of_head) {
            head.truncate(from.saturating_add(end));
            return Ok(Some(head));
        }
    }
}

/// Where the head in `bytes` ends: the blank line (`\r\n\r\n`, or `\n\n` from a lenient
/// client), as an offset of the first line end of it.
pub(super) fn end_of_head(bytes: &[u8]) -> Option<usize> {
    bytes.windows(3).position(|w| w == b"\n\r\n").or_else(|| {
        bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .map(|at| at.saturating_add(1))
    })
}

/// What the head `head` asks for.
pub(crate) fn parse_request(head: &[u8]) -> Request {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').map(|line| line.trim_end_matches('\r'));
    let first = lines.next().unwrap_or("");
    let parts: Vec<&str> = first.split(' ').collect();
    let [method, target, version] = parts.as_slice() else {
        return Request::Bad;
    };
    if !version.starts_with("HTTP/1.") || target.is_empty() || method.is_empty() {
        return Request::Bad;
    }
    let path = target.split('?').next().unwrap_or("");
    if path != "/metrics" {
        return Request::NotFound;
    }
    let head_only = match *method {
        "GET" => false,
        "HEAD" => true,
        _ => return Request::NotAllowed,
    };
    let gzip = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("accept-encoding") && accepts_gzip(value)
        })
    });
    Request::Metrics { head_only, gzip }
}

/// Whether an `Accept-Encoding` value accepts gzip: it names it, not with `q=0`.
pub(super) fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        coding.eq_ignore_ascii_case("gzip")
            && parts.all(|parameter| {
                parameter.split_once('=').is_none_or(|(name, q)| {
                    !name.trim().eq_ignore_ascii_case("q") || q.trim().parse::<f64>() != Ok(0.0)
                })
            })
    })
}

/// One answer, written with `Connection: close`.
pub(super) struct Answer<'a> {
    pub(super) status: &'static str,
    pub(super) content_type: &'static str,
    pub(super) gzip: bool,
    pub(super) body: &'a [u8],
    pub(super) head_only: bool,
}

impl Answer<'static> {
    pub(super) fn error(status: &'static str, body: &'static str) -> Answer<'static> {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            gzip: false,
            body: body.as_bytes(),
            head_only: false,
        }
    }
}

impl Answer<'_> {
    pub(super) fn write(&self, stream: &mut TcpStream, deadline: Instant) -> io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.status,
            self.content_type,
            self.body.len()
        );
        if self.gzip {
            head.push_str("Content-Encoding: gzip\r\n");
        }
        if self.content_type == CONTENT_TYPE {
            head.push_str("Vary: Accept-Encoding\r\n");
        }
        if self.status.starts_with("405") {
            head.push_str("Allow: GET, HEAD\r\n");
        }
        head.push_str("Connection: close\r\n\r\n");
        write_within(stream, head.as_bytes(), deadline)?;
        if self.head_only {
            return Ok(());
        }
        write_within(stream, self.body, deadline)
    }
}

/// Writes all of `bytes` by `deadline`: each write is given what is left of it, so a client
/// that reads a byte at a time cannot stretch the connection.
pub(super) fn write_within(
    stream: &mut TcpStream,
    mut bytes: &[u8],
    deadline: Instant,
) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.set_write_timeout(Some(left(deadline)?))?;
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => bytes = bytes.get(written..).unwrap_or_default(),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Closes gracefully after an answer: closing a socket with unread input makes the kernel
/// reset the connection, which can destroy the answer before the client read it (a 431 to a
/// client still sending its head, say). So the sending side is shut first, and what the
/// client still sends is read and thrown away, at most [`DRAIN_LIMIT`] bytes for at most
/// [`LINGER`]; a client that has what it asked for closes at once.
pub(super) fn linger(stream: &mut TcpStream, deadline: Instant) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = deadline.min(deadline::after(LINGER));
    let mut scratch = [0u8; 4096];
    let mut drained = 0usize;
    while drained < DRAIN_LIMIT {
        let Ok(left) = left(until) else { return };
        if stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut scratch) {
            Ok(0) | Err(_) => return,
            Ok(read) => drained = drained.saturating_add(read),
        }
    }
}

/// What is left until `deadline`; an error when nothing is (a zero timeout means "none" to
/// the socket calls).
pub(super) fn left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::ErrorKind::TimedOut.into())
    } else {
        Ok(left)
    }
}
