//! The push path with 10,000 series: rendering the exposition, and pushing it (gzip + HTTP PUT)
//! to an in-process loopback sink that reads each request and answers `200 OK`.
//!
//! Run with `cargo bench -p pushtimer-bench`, then `python3 bench/report.py`.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

const SERIES: usize = 10_000;

/// Requests the sink answered.
static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// Connections the sink accepted (fewer than requests when the client reuses connections).
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);
/// The first request's body and whether it was sent with `Content-Encoding: gzip`, to check
/// that the sink really received the exposition.
static FIRST_BODY: Mutex<Option<(bool, Vec<u8>)>> = Mutex::new(None);

/// A minimal HTTP/1.1 server on 127.0.0.1: reads each request (headers, then exactly
/// `Content-Length` bytes of body), answers `200 OK` with an empty body and keeps the
/// connection open for the next request. Returns its base URL.
fn start_sink() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the loopback sink");
    let address = listener.local_addr().expect("sink address");
    std::thread::Builder::new()
        .name("push-sink".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                CONNECTIONS.fetch_add(1, Ordering::Relaxed);
                std::thread::spawn(move || serve(stream));
            }
        })
        .expect("spawn the sink");
    format!("http://{address}")
}

/// Serves requests on one connection until the client closes it or sends something this
/// sink does not understand.
fn serve(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        // Request line; EOF means the client closed the connection.
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut content_length = 0usize;
        let mut gzip = false;
        let mut close = false;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                return;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => match value.parse() {
                    Ok(length) => content_length = length,
                    Err(_) => return,
                },
                "content-encoding" => gzip = value.eq_ignore_ascii_case("gzip"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                // Chunked bodies are not expected: pushtimer sends a Content-Length.
                "transfer-encoding" => return,
                _ => {}
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Ok(mut first) = FIRST_BODY.lock()
            && first.is_none()
        {
            *first = Some((gzip, body));
        }
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        let answer: &[u8] = if close {
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        };
        if writer
            .write_all(answer)
            .and_then(|()| writer.flush())
            .is_err()
            || close
        {
            return;
        }
    }
}

/// Registers the 10,000 series once and observes each once (past the default cardinality
/// limit of 2,000 label sets a metric, so the limit is raised first).
fn register_series() {
    let _ = pushtimer::Config::from_env()
        .cardinality_limit(2 * SERIES)
        .install();
    for i in 0..SERIES {
        let summary = pushtimer::Summary::builder("bench_series")
            .label("i", &i.to_string())
            .register()
            .expect("register a series");
        summary.observe_duration(Duration::from_micros(1 + i as u64));
    }
}

fn push_path(c: &mut Criterion) {
    register_series();
    let exposition = pushtimer::render();
    let series_lines = exposition
        .lines()
        .filter(|line| line.starts_with("bench_series_seconds_count{"))
        .count();
    assert_eq!(series_lines, SERIES, "every series is rendered");

    let mut group = c.benchmark_group("push_path");
    group.bench_function("render_10000_series", |b| b.iter(pushtimer::render));

    let url = start_sink();
    let pusher = pushtimer::Pusher::new(&url, "bench").expect("pusher for the sink");
    // One push first, to check that the sink gets the exposition, gzip-compressed.
    pusher.push(&exposition).expect("push to the loopback sink");
    let (gzip, body) = FIRST_BODY
        .lock()
        .expect("first body")
        .take()
        .expect("the sink received the request");
    assert!(gzip, "a body over 1 KiB is sent gzip-compressed");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .expect("a gzip body");
    assert_eq!(text, exposition);

    group.bench_function("push_10000_series", |b| {
        b.iter(|| pusher.push(&exposition).expect("push to the loopback sink"))
    });

    // 10,000 histogram series (default buckets) more: what rendering them adds.
    for i in 0..SERIES {
        let histogram = pushtimer::Histogram::builder("bench_histogram")
            .label("i", &i.to_string())
            .register()
            .expect("register a histogram");
        histogram.observe_duration(Duration::from_micros(1 + i as u64));
    }
    let with_histograms = pushtimer::render();
    assert_eq!(
        with_histograms
            .lines()
            .filter(|line| line.starts_with("bench_histogram_seconds_count{"))
            .count(),
        SERIES,
        "every histogram series is rendered"
    );
    group.bench_function("render_10000_series_and_10000_histograms", |b| {
        b.iter(pushtimer::render)
    });
    group.bench_function("push_10000_series_and_10000_histograms", |b| {
        b.iter(|| {
            pusher
                .push(&with_histograms)
                .expect("push to the loopback sink")
        })
    });

    // 10,000 native histogram series more (a spread of 1 µs to 10 ms each, so about 40
    // buckets): the body is delimited protobuf from then on.
    for i in 0..SERIES {
        let native = pushtimer::Histogram::builder("bench_native")
            .label("i", &i.to_string())
            .native()
            .register()
            .expect("register a native histogram");
        for step in 0..40u64 {
            native.observe_duration(Duration::from_micros(1 + (i as u64 + step * 250) % 10_000));
        }
    }
    let (body, content_type) = pushtimer::__internals::gateway_body();
    assert!(
        content_type.starts_with("application/vnd.google.protobuf"),
        "{content_type}"
    );
    eprintln!("protobuf body of 30,000 series: {} bytes", body.len());
    group.bench_function(
        "encode_protobuf_10000_native_histograms_and_20000_series",
        |b| b.iter(pushtimer::__internals::gateway_body),
    );
    group.finish();

    let requests = REQUESTS.load(Ordering::Relaxed);
    let connections = CONNECTIONS.load(Ordering::Relaxed);
    eprintln!("push sink: {requests} requests over {connections} connection(s)");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = push_path
}
criterion_main!(benches);
