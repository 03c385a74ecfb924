//! The job of the native-histograms suite: `native_job <seed>` makes 40 calls of a timed
//! function with a native histogram, sleeping 1 to 30 ms each (a call of every fourth
//! `Err`s), and prints each call's duration as its body measured it (`call <outcome>
//! <seconds>`);
//! then it observes a hand-made native histogram `native_job_hand` with exact values
//! (`<seed>` eighths of a second and 100 quarters of a second), and prints `done`. Jobs of
//! other seeds have other distributions.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

/// Sleeps `millis` ms; answers how long its body took, by its own clock (what pushtimer
/// times, to within a clock read: the first call's set-up happens before the timing starts, so
/// a measurement around the call would count it too).
#[pushtimer::timed(name = "native_job_stage", native_histogram)]
fn stage(millis: u64, fail: bool) -> Result<f64, f64> {
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(millis));
    let took = started.elapsed().as_secs_f64();
    if fail { Err(took) } else { Ok(took) }
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
        match stage(millis, call % 4 == 0) {
            Ok(took) => println!("call ok {took}"),
            Err(took) => println!("call error {took}"),
        }
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
