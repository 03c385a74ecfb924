//! The job of the resources suite: `resources_job <MiB> <cpu-ms>` allocates `<MiB>` MiB and
//! touches every page of it (so all of it is resident), burns `<cpu-ms>` ms of CPU in a timed
//! function, keeps the memory until it returns from `main`, and prints `done`. With a third
//! argument `collide` it first registers metrics of its own in `pushtimer::registry()` named as
//! pushtimer's resource gauges (a gauge of peak memory, a counter of CPU time), valued 7.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Burns CPU for `ms` milliseconds of wall time.
#[pushtimer::timed(name = "resources_job_burn")]
fn burn(ms: u64) -> u64 {
    let started = Instant::now();
    let mut x = 1u64;
    while started.elapsed() < Duration::from_millis(ms) {
        for _ in 0..10_000 {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
    x
}

fn main() {
    pushtimer_tests::init_stderr_logger();
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.get(2).map(String::as_str) == Some("collide") {
        use pushtimer::prometheus::{Gauge, IntCounter};
        let peak = Gauge::new("pushtimer_job_max_resident_memory_bytes", "user's").expect("ok");
        peak.set(7.0);
        let cpu = IntCounter::new("pushtimer_job_cpu_seconds_total", "user's").expect("ok");
        cpu.inc_by(7);
        pushtimer::registry()
            .register(Box::new(peak))
            .expect("registered");
        pushtimer::registry()
            .register(Box::new(cpu))
            .expect("registered");
    }
    let args: Vec<u64> = all
        .iter()
        .take(2)
        .map(|arg| arg.parse().expect("a number"))
        .collect();
    let (mib, cpu_ms) = (
        args.first().copied().unwrap_or(0),
        args.get(1).copied().unwrap_or(0),
    );
    let bytes = usize::try_from(mib << 20).expect("fits");
    // Zeroed memory may come as pages the kernel has not backed yet: a byte written in every
    // 4 KiB makes every page resident.
    let mut memory = vec![0u8; bytes];
    for i in (0..bytes).step_by(4096) {
        memory[i] = black_box(1);
    }
    black_box(&memory);
    burn(cpu_ms);
    black_box(&memory);
    println!("done");
}
