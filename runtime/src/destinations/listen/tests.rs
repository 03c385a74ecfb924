//! The endpoint's unit tests: addresses, requests, answers, the bounds, the render cache.

use super::*;

use super::address::parse_address;
use super::http::*;
use super::server::*;

use std::io::BufRead;

use crate::push::report::Reporter;
use crate::settings::checked::Naming;
use crate::store::run::Run;

fn registry() -> &'static Registry {
    let registry = Registry::new(Naming::default(), Run::new(Vec::new(), None));
    let registry: &'static Registry = Box::leak(Box::new(registry));
    let (series, _) = registry.summary("listen_unit_seconds", "Unit work.", &[], &[], &[], None);
    series.observe(Duration::from_millis(1500));
    registry
}

/// A started endpoint on a free loopback port, and its address.
fn started() -> (&'static Listen, SocketAddr) {
    let listen = Listen::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    let listen: &'static Listen = Box::leak(Box::new(listen));
    listen.start(registry());
    let address = listen.socket.local_addr().unwrap();
    (listen, address)
}

/// Sends `request` as it is and reads the whole answer: the status line, the headers
/// (lowercase names) and the body.
fn exchange(address: SocketAddr, request: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut reader = io::BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut body = Vec::new();
    reader.read_to_end(&mut body).unwrap();
    (status.trim_end().to_owned(), headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn addresses_are_ip_and_port_never_a_host_name() {
    assert_eq!(
        parse_address("127.0.0.1:9464"),
        Ok("127.0.0.1:9464".parse().unwrap())
    );
    assert_eq!(
        parse_address("[::1]:9464"),
        Ok("[::1]:9464".parse().unwrap())
    );
    assert_eq!(parse_address(":9464"), Ok("0.0.0.0:9464".parse().unwrap()));
    assert_eq!(parse_address("[::]:9464"), Ok("[::]:9464".parse().unwrap()));
    let refused = [
        ("localhost:9464", "host name"),
        ("pushtimer.example:9464", "host name"),
        ("::1:9464", "brackets"),
        ("127.0.0.1", "no port"),
        ("127.0.0.1:0", "port 0"),
        (":0", "port 0"),
        (":", "no port"),
        (":http", "no port"),
        (":65536", "no port"),
        ("127.0.0.1:99999", "not an address"),
        ("", "not an address"),
        ("http://127.0.0.1:9464", "a URL"),
        ("127.0.0.1:9464/metrics", "not an address"),
    ];
    for (text, why) in refused {
        let reason = parse_address(text).unwrap_err();
        assert!(reason.contains(why), "{text}: {reason}");
    }
}

#[test]
fn a_taken_port_or_a_bad_address_is_an_error_naming_the_variable() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    for error in [
        Listen::bind(address).err().unwrap(),
        parse_address("localhost:1").map_err(invalid).err().unwrap(),
    ] {
        let shown = error.to_string();
        assert!(shown.contains("PUSHTIMER_LISTEN"), "{shown}");
    }
    let shown = Listen::bind(address).err().unwrap().to_string();
    assert!(shown.contains(&address.to_string()), "{shown}");
}

#[test]
fn requests_are_told_apart() {
    let metrics = |head_only, gzip| Request::Metrics { head_only, gzip };
    let cases: [(&str, Request); 12] = [
        ("GET /metrics HTTP/1.1\r\nHost: x", metrics(false, false)),
        ("HEAD /metrics HTTP/1.1", metrics(true, false)),
        ("GET /metrics?x=1 HTTP/1.0", metrics(false, false)),
        (
            "GET /metrics HTTP/1.1\r\naccept-encoding: gzip",
            metrics(false, true),
        ),
        (
            "GET /metrics HTTP/1.1\r\nAccept-Encoding: br, GZip;q=0.5",
            metrics(false, true),
        ),
        (
            "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip;q=0",
            metrics(false, false),
        ),
        ("GET / HTTP/1.1", Request::NotFound),
        ("GET /metrics/x HTTP/1.1", Request::NotFound),
        ("POST /metrics HTTP/1.1", Request::NotAllowed),
        ("GET /metrics", Request::Bad),
        ("GET  /metrics HTTP/1.1", Request::Bad),
        ("\u{0}\u{1}", Request::Bad),
    ];
    for (head, expected) in cases {
        assert_eq!(parse_request(head.as_bytes()), expected, "{head:?}");
    }
}

#[test]
fn the_head_ends_at_its_blank_line() {
    assert_eq!(end_of_head(b"GET / HTTP/1.1\r\n\r\n"), Some(15));
    assert_eq!(end_of_head(b"GET / HTTP/1.1\n\n"), Some(15));
    assert_eq!(end_of_head(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
}

#[test]
fn metrics_are_served_with_their_headers_and_other_requests_refused() {
    let (_, address) = started();
    let (status, headers, body) = exchange(address, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "content-type"), Some(CONTENT_TYPE));
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert_eq!(
        header(&headers, "content-length"),
        Some(body.len().to_string().as_str())
    );
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("# TYPE listen_unit_seconds summary\n"),
        "{text}"
    );
    assert!(text.contains("listen_unit_seconds_count 1\n"), "{text}");

    let (status, headers, body) = exchange(address, b"HEAD /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.is_empty());
    assert_ne!(header(&headers, "content-length"), Some("0"));

    let (status, headers, body) = exchange(
        address,
        b"GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(body.as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains("listen_unit_seconds_count 1\n"), "{text}");

    for (request, expected) in [
        (&b"GET / HTTP/1.1\r\n\r\n"[..], "HTTP/1.1 404 Not Found"),
        (
            b"DELETE /metrics HTTP/1.1\r\n\r\n",
            "HTTP/1.1 405 Method Not Allowed",
        ),
        (b"hello\r\n\r\n", "HTTP/1.1 400 Bad Request"),
    ] {
        let (status, headers, _) = exchange(address, request);
        assert_eq!(status, expected);
        if expected.contains("405") {
            assert_eq!(header(&headers, "allow"), Some("GET, HEAD"));
        }
    }
}

#[test]
fn a_head_over_the_limit_is_refused_with_431() {
    let (_, address) = started();
    let mut request = b"GET /metrics HTTP/1.1\r\nX-Filler: ".to_vec();
    // The documented limit is 8 KiB: a head of 9 KiB is over it.
    request.resize(9 * 1024, b'a');
    request.extend_from_slice(b"\r\n\r\n");
    let (status, _, _) = exchange(address, &request);
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    // Just under the limit is served.
    let mut request = b"GET /metrics HTTP/1.1\r\nX-Filler: ".to_vec();
    request.resize(8 * 1024 - 4, b'a');
    request.extend_from_slice(b"\r\n\r\n");
    let (status, _, _) = exchange(address, &request);
    assert_eq!(status, "HTTP/1.1 200 OK");
}

#[test]
fn idle_connections_beyond_the_bound_drop_the_oldest_not_a_new_request() {
    let (listen, address) = started();
    let idle: Vec<TcpStream> = (0..MAX_CONNECTIONS * 3)
        .map(|_| TcpStream::connect(address).unwrap())
        .collect();
    let (status, _, _) = exchange(address, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    // The first ones were dropped: the server closed them without an answer.
    let mut first = &idle[0];
    first
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut byte = [0u8; 1];
    assert!(matches!(first.read(&mut byte), Ok(0) | Err(_)));
    assert!(lock(&listen.open).connections.len() <= MAX_CONNECTIONS);
    assert!(*lock(&listen.threads) <= MAX_THREADS);
}

#[test]
fn renders_within_a_second_are_the_same_bytes() {
    let listen = Listen::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    let registry = registry();
    let deadline = deadline::after(CONNECTION_DEADLINE);
    let first = listen.current(registry, deadline).unwrap();
    registry
        .summary("listen_unit_seconds", "Unit work.", &[], &[], &[], None)
        .0
        .observe(Duration::from_millis(1));
    let second = listen.current(registry, deadline).unwrap();
    if second.at.duration_since(first.at) < RENDER_EVERY {
        assert!(Arc::ptr_eq(&first, &second));
    }
    // Once it is older, the next request renders anew.
    let old = Rendered {
        at: Instant::now()
            .checked_sub(RENDER_EVERY * 2)
            .unwrap_or(first.at),
        plain: Vec::new(),
        gzip: OnceLock::new(),
    };
    *lock(&listen.cache) = Some(Arc::new(old));
    let third = listen.current(registry, deadline).unwrap();
    assert!(String::from_utf8_lossy(&third.plain).contains("listen_unit_seconds_count 2\n"));
}

#[test]
fn rounds_send_nothing_and_the_last_act_claims_nothing() {
    const { assert!(!<Listen as Destination>::TAKES_CHANGES) };
    let listen = Listen::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    let registry = registry();
    let renders = std::sync::atomic::AtomicU64::new(0);
    let round = Round {
        registry,
        deadline: deadline::after(Duration::from_secs(1)),
        retries: crate::transport::retry::Retries::Quick,
        outside: crate::push::destination::Outside::now(false),
        renders: &renders,
    };
    assert!(listen.send_state(&round, false, &mut ()).is_none());
    assert!(listen.send_state(&round, true, &mut ()).is_none());
    let last = listen.send_last(&round, LastAct { exit_code: Some(0) });
    assert_eq!(last, Exchange::done());
    assert_eq!(renders.load(Ordering::Relaxed), 0);
    let mut reporter = Reporter::default();
    let verdict = reporter.report_final(listen.last_act_name(), &listen.name(), &last.result);
    assert_eq!(verdict, None);
}

/// Every connection has a deadline: one that sends nothing, with nothing else going on, is
/// closed by the server (its read ends) rather than kept for ever. The deadline is cut to
/// 200 ms here, so the test need not wait the real 10 s.
#[test]
fn a_connection_that_sends_nothing_is_closed_at_its_deadline() {
    let mut listen = Listen::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    listen.connection_deadline = Duration::from_millis(200);
    let listen: &'static Listen = Box::leak(Box::new(listen));
    listen.start(registry());
    let address = listen.socket.local_addr().unwrap();
    let mut silent = TcpStream::connect(address).unwrap();
    // An outer limit, far beyond the server's deadline.
    silent
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut byte = [0u8; 1];
    match silent.read(&mut byte) {
        Ok(0) => {}
        Err(error) if error.kind() == io::ErrorKind::ConnectionReset => {}
        other => panic!("the silent connection was kept open: {other:?}"),
    }
}
