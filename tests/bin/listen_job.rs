//! A job for the listen suite (`tests/listen.rs`): `steps <dir>`. It makes one timed call each
//! time the test creates `<dir>/call-<n>` (n = 1, 2, ... in order), and prints `called <n>`
//! on stderr after it; between steps nothing changes, so what a destination shows after a
//! step can only come from a round that saw that one change. It returns once `<dir>/stop`
//! exists (after the steps made so far).
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Duration;

/// Does one step of work.
#[pushtimer::timed(name = "listen_job_step")]
fn step(n: u64) -> u64 {
    std::hint::black_box(n)
}

fn main() {
    pushtimer_tests::init_stderr_logger();
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("steps"), Some(dir)) => steps(Path::new(dir)),
        _ => panic!("usage: listen_job steps <dir>"),
    }
}

fn steps(dir: &Path) {
    let mut done = 0u64;
    while !dir.join("stop").exists() {
        let next = done + 1;
        if dir.join(format!("call-{next}")).exists() {
            step(next);
            done = next;
            eprintln!("called {done}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
