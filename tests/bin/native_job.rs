//! The job of the native-histograms suite: `native_job <seed>` makes 40 calls of a timed
//! function with a native histogram, sleeping 1 to 30 ms each (a call of every fourth
//! `Err`s), and prints each call's duration as it measured it (`call <outcome> <seconds>`);
//! then it observes a hand-made native histogram `native_job_hand` with exact values
//! (`<seed>` eighths of a second and 100 quarters of a second), and prints `done`. Jobs of
//! other seeds have other distributions.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

#[pushtimer::timed(name = "native_job_stage", native_histogram)]
fn stage(millis: u64, fail: bool) -> Result<(), String> {
    std::thread::sleep(Duration::from_millis(millis));
    if fail {
        Err(String::from("on purpose"))
    } else {
        Ok(())
    }
}

fn main() {
    pushtimer_tests::init_stderr_logger();
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|seed| seed.parse().ok())
        .expect("usage: native_job <seed>");
    for call in 0..40u64 {
        // A spread that differs by seed: 1 to 30 ms.
        let millis = 1 + (call * 7 + seed * 13) % 30;
        let fail = call % 4 == 0;
        let started = Instant::now();
        let outcome = if stage(millis, fail).is_ok() {
            "ok"
        } else {
            "error"
        };
        println!("call {outcome} {}", started.elapsed().as_secs_f64());
    }
    let hand = pushtimer::Histogram::builder("native_job_hand")
        .native()
        .register()
        .expect("valid");
    for _ in 0..seed {
        hand.observe(0.125).expect("valid");
    }
    for _ in 0..100 {
        hand.observe(0.25).expect("valid");
    }
    println!("done");
}
