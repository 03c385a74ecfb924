//! A job with very many series, for the remote-write tests of large writes:
//! `many_series_job <metrics> <series per metric>`.
//!
//! It registers `<metrics>` hand summaries `many_000_seconds`, `many_001_seconds`, ... each
//! with `<series per metric>` series told apart by the label `series="0"`, `"1"`, ... (each a
//! `_sum` and a `_count` in remote write), then returns from `main`. Series `s` of metric `m`
//! observes `m % 3 + 1` seconds `s % 5 + 1` times, so every number a store gives back is an
//! exact integer: for 1,000 series per metric, the `_count`s of a metric add up to 3,000 and
//! its `_sum`s to 3,000 × (`m % 3 + 1`).
//!
//! It prints how long registering took and when it is done (what follows, up to the process's
//! end, is the final write at exit).
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

fn main() {
    pushtimer_tests::init_stderr_logger();
    let args: Vec<String> = std::env::args().collect();
    let number = |i: usize| -> usize {
        args.get(i)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("usage: many_series_job <metrics> <series per metric>"))
    };
    let (metrics, series) = (number(1), number(2));

    let started = Instant::now();
    let mut summaries = Vec::with_capacity(metrics * series);
    for m in 0..metrics {
        let name = format!("many_{m:03}");
        for s in 0..series {
            let summary = pushtimer::Summary::builder(&name)
                .help("A series among very many.")
                .label("series", &s.to_string())
                .register()
                .expect("a valid summary");
            summaries.push((m, s, summary));
        }
    }
    println!(
        "registered {} series in {:?}",
        summaries.len(),
        started.elapsed()
    );
    for (m, s, summary) in &summaries {
        for _ in 0..s % 5 + 1 {
            summary.observe_duration(Duration::from_secs(*m as u64 % 3 + 1));
        }
    }
    println!("recorded; exiting after {:?}", started.elapsed());
}
