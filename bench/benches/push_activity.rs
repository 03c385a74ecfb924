//! Does pushing cost the timed calls anything? The same `#[timed]` function as
//! `overhead/pushtimer`, measured in processes whose background thread is busy:
//!
//! - `push_activity/pushing`: the gateway is a loopback sink answering 200 at once, and the
//!   push interval is 1 ms, so a push of the (changing) state is nearly always under way;
//! - `push_activity/blackholed`: the gateway accepts connections and never answers, so a push
//!   is always hanging until its 2 s deadline, then the next one starts.
//!
//! Which of the two is set up is chosen by `PUSHTIMER_BENCH_GATEWAY` (`pushing` or
//! `blackholed`): pushtimer's configuration is per process, so `bench/run.sh` runs this
//! binary twice. Compare with `overhead/pushtimer` (no gateway at all).
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

/// The same work as in `overhead`.
#[inline(never)]
fn body(x: u64) -> u64 {
    black_box(x).wrapping_mul(31).rotate_left(7) ^ 0x5bd1e995
}

#[pushtimer::timed(name = "bench_pushtimer")]
#[inline(never)]
fn with_pushtimer(x: u64) -> u64 {
    body(x)
}

/// Answers every request on a connection with 200, reading bodies by `Content-Length`.
fn answer_ok(stream: TcpStream) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err()
            || writer
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .is_err()
        {
            return;
        }
    }
}

/// Starts the gateway stand-in and configures pushtimer to push to it; returns the bench id.
fn set_up() -> &'static str {
    let mode = std::env::var("PUSHTIMER_BENCH_GATEWAY").unwrap_or_else(|_| "pushing".into());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let blackholed = mode == "blackholed";
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            if blackholed {
                held.push(stream);
            } else {
                std::thread::spawn(move || answer_ok(stream));
            }
        }
    });
    pushtimer::Config::new()
        .gateway(&url)
        .job("bench")
        .push_interval(Duration::from_millis(1))
        // Also bounds the final push when the bench process exits.
        .timeout(Duration::from_secs(2))
        .install()
        .expect("first configuration");
    if blackholed { "blackholed" } else { "pushing" }
}

fn push_activity(c: &mut Criterion) {
    let id = set_up();
    // Start the runtime (and its push thread) before measuring.
    with_pushtimer(0);
    let mut group = c.benchmark_group("push_activity");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    let mut x = 0u64;
    group.bench_function(id, |b| {
        b.iter(|| {
            x = x.wrapping_add(1);
            with_pushtimer(x)
        })
    });
    group.finish();
}

criterion_group!(benches, push_activity);
criterion_main!(benches);
