//! A small batch job for the exit-path tests: `exit_job <how-it-ends> <calls>`.
//!
//! It calls a timed function `<calls>` times, an async timed function once, observes 0.25 s by
//! hand `<calls>` times, then ends as asked: `return` (from `main`), `exit3`
//! (`std::process::exit(3)`), `panic` (a panic unwinding out of `main`) or `flush` (calls
//! `pushtimer::flush()`, prints its outcome, then returns). `early-exit2` and `early-err` end
//! before anything else, pushtimer untouched: by `exit(2)`, and by returning an `Err` (code 1).
#![forbid(unsafe_code)]

use std::hint::black_box;

/// Does one unit of work.
#[pushtimer::timed(name = "exit_job_work", labels(stage = "work"))]
fn work(i: u64) -> u64 {
    black_box(i.wrapping_mul(31))
}

/// Uploads the result.
#[pushtimer::timed]
async fn upload(bytes: usize) -> usize {
    black_box(bytes)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let how = args.get(1).map(String::as_str).unwrap_or("return");
    // Ends before anything of pushtimer runs (a bad argument, a missing input).
    match how {
        "early-exit2" => std::process::exit(2),
        "early-err" => return Err("a missing input".into()),
        _ => {}
    }
    pushtimer_tests::init_stderr_logger();
    let calls: u64 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(3);

    for i in 0..calls {
        work(i);
    }
    pushtimer_tests::block_on(upload(42));
    let wait = pushtimer::Summary::builder("exit_job_wait")
        .help("Seconds waited, observed by hand.")
        .register()
        .expect("valid summary");
    for _ in 0..calls {
        wait.observe(0.25).expect("a valid duration");
    }
    println!("recorded {calls} calls");

    match how {
        "return" => {}
        "err" => return Err("the job failed on purpose".into()),
        "exit0" => std::process::exit(0),
        "exit3" => std::process::exit(3),
        "panic" => panic!("the job failed on purpose"),
        "flush" => match pushtimer::flush() {
            Ok(()) => println!("flush: ok"),
            Err(error) => println!("flush: {error}"),
        },
        other => panic!("unknown ending {other:?}"),
    }
    Ok(())
}
