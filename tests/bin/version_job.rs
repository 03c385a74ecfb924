//! The job of the version suite (`tests/version.rs`), with a timed function of its own (this
//! binary crate's) and one of a library's (`pushtimer_tests::library_step`):
//!
//! - `version_job binary`: calls its own timed function, prints `done`;
//! - `version_job library`: calls only the library's, prints `done`;
//! - `version_job steps <dir>`: calls the library's and says `library called` on stderr; once
//!   `<dir>/binary` exists, calls its own and says `binary called`; returns once `<dir>/stop`
//!   exists.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use pushtimer_tests::JOB_LIMIT;

/// One step of the program's own work.
#[pushtimer::timed(name = "version_binary_step")]
fn binary_step(n: u64) -> u64 {
    std::hint::black_box(n)
}

fn main() {
    pushtimer_tests::init_stderr_logger();
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("binary"), None) => {
            binary_step(1);
        }
        (Some("library"), None) => {
            pushtimer_tests::library_step(1);
        }
        (Some("steps"), Some(dir)) => steps(Path::new(dir)),
        _ => panic!("usage: version_job binary | library | steps <dir>"),
    }
    println!("done");
}

fn steps(dir: &Path) {
    // A test that died leaves no job behind for long.
    let started = Instant::now();
    let wait_for = |name: &str| {
        while !dir.join(name).exists() {
            assert!(started.elapsed() < JOB_LIMIT, "{name} never came");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    pushtimer_tests::library_step(1);
    eprintln!("library called");
    wait_for("binary");
    binary_step(2);
    eprintln!("binary called");
    wait_for("stop");
}
