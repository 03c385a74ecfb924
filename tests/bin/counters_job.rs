//! The job of the counters suite: `counters_job <rows> <users>` transforms `<rows>` rows in a
//! timed function that counts them with `count!` (and the bytes it read with a `Counter`, from
//! four threads), keeps a gauge of rows in flight and one of its peak, hands a gauge NaN and
//! `count!` a negative amount once each (refused and counted), and counts one row per user
//! id for `<users>` distinct ids (a label made from data: the cardinality limit's case). Prints
//! `done`.
#![forbid(unsafe_code)]

use pushtimer::{Counter, Gauge};

/// Transforms `rows` rows, `bytes` bytes each, counting both; `in_flight` goes up and back.
#[pushtimer::timed(name = "counters_job_transform", labels(stage = "transform"))]
fn transform(rows: usize, bytes: &Counter, in_flight: &Gauge, peak: &Gauge) -> usize {
    let mut done = 0;
    for _ in 0..rows {
        in_flight.add(1.0).expect("finite");
        peak.set_max(in_flight.value()).expect("finite");
        bytes.inc_by(100);
        done += 1;
        in_flight.add(-1.0).expect("finite");
    }
    pushtimer::count!(
        "counters_job_transform_rows",
        done,
        labels(stage = "transform")
    );
    done
}

fn main() {
    pushtimer_tests::init_stderr_logger();
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().expect("a number"))
        .collect();
    let (rows, users) = (args[0], args[1]);
    let bytes = Counter::builder("counters_job_read_bytes")
        .help("Bytes the job read.")
        .label("stage", "transform")
        .register()
        .expect("valid");
    let in_flight = Gauge::builder("counters_job_rows_in_flight")
        .register()
        .expect("valid");
    let peak = Gauge::builder("counters_job_rows_in_flight_peak")
        .help("The most rows in flight at once.")
        .register()
        .expect("valid");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| transform(rows / 4, &bytes, &in_flight, &peak));
        }
    });
    assert!(in_flight.set(f64::NAN).is_err());
    pushtimer::count!("counters_job_refunds", -1_i64);
    for user in 0..users {
        Counter::builder("counters_job_rows_by_user")
            .label("user", &format!("u{user}"))
            .register()
            .expect("valid")
            .inc();
    }
    println!("done");
}
