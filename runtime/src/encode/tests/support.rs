//! What the encoders' tests share to reach outside the process: finding binaries (or
//! skipping visibly) and plain HTTP on loopback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

/// The variable that turns a skip into a failure (set by `.ci/run`, as for the integration
/// tests' harness).
const REQUIRE_VARIABLE: &str = "PUSHTIMER_REQUIRE_PUSHGATEWAY";

/// Says visibly, on the stderr handle (which the test harness does not capture), that `test`
/// is skipped because `binary` is missing; fails instead under
/// `PUSHTIMER_REQUIRE_PUSHGATEWAY=1`, where everything must run.
pub(super) fn skip(test: &str, binary: &str, package: &str) {
    let required = std::env::var_os(REQUIRE_VARIABLE).is_some_and(|v| v == "1");
    assert!(
        !required,
        "{test} cannot run: {binary} is not installed, and {REQUIRE_VARIABLE}=1 requires it"
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {binary} is not installed (apt-get install {package}, or set {})",
        binary_variable(binary)
    );
}

/// `PROMTOOL_BIN` for `promtool`, `PUSHGATEWAY_BIN` for the gateway (the integration tests'
/// variables).
fn binary_variable(binary: &str) -> &'static str {
    if binary == "promtool" {
        "PROMTOOL_BIN"
    } else {
        "PUSHGATEWAY_BIN"
    }
}

/// `binary` from its variable, `PATH`, `/usr/bin` or `/usr/local/bin`.
pub(super) fn find_binary(binary: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(binary_variable(binary)) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.is_file())
}

/// An HTTP/1.1 answer: status, headers (names lowercased), body (de-chunked).
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Answer {
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request to `127.0.0.1:port`, written by hand (`Connection: close`), and its
/// answer; `None` when it could not connect or the answer is not HTTP.
pub(super) fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Answer> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = answer[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// A chunked body's content.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}
