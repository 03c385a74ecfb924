//! Native histograms against the real servers: three jobs push one timed stage with a native
//! histogram (protobuf to a real Pushgateway); a real Prometheus with native histograms on,
//! scraping the gateway with `honor_labels`, merges them: `histogram_quantile(0.99, sum(..))`
//! and the same by `outcome` are within the schema's error of the true merged p99 (the
//! durations each job measured itself), and `histogram_count`/`histogram_sum` of a hand-made
//! native histogram with exact values are exact. Text readers of the gateway see the classic
//! buckets made from the native ones.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use pushtimer_tests::{Gateway, JobRun, PromQl, Prometheus, run_job};

const NATIVE_JOB: &str = env!("CARGO_BIN_EXE_native_job");
/// How long Prometheus may take to scrape (it does every second).
const WITHIN: Duration = Duration::from_secs(30);
/// How far apart two neighbouring bounds of the default schema (5) are: 2^(1/32).
const BUCKET_RATIO: f64 = 1.021_897_148_654_116_7;

/// The durations a run printed, by outcome.
fn durations(run: &JobRun) -> BTreeMap<String, Vec<f64>> {
    let mut by_outcome: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for line in run.stdout.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("call")
            && let (Some(outcome), Some(seconds)) = (words.next(), words.next())
        {
            let seconds: f64 = seconds.parse().expect("seconds");
            by_outcome
                .entry(outcome.to_owned())
                .or_default()
                .push(seconds);
        }
    }
    by_outcome
}

/// The `ceil(q * n)`-th smallest of `values`: the observation a quantile estimate stands for.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `estimate` is within one bucket of `truth`: the estimate lies in the bucket that holds the
/// observation of its rank, and the durations a job measured itself differ from pushtimer's by
/// a clock read or two (allowed for with one more bucket).
fn assert_within_the_schemas_error(estimate: f64, truth: f64, what: &str) {
    let ratio = estimate / truth;
    let most = BUCKET_RATIO * BUCKET_RATIO;
    assert!(
        (1.0 / most..=most).contains(&ratio),
        "{what}: {estimate} for a true {truth} (× {ratio})"
    );
}

/// The one value `promql` answers, once Prometheus has it.
fn one(prometheus: &Prometheus, promql: &str, ready: impl Fn(f64) -> bool) -> f64 {
    let points = prometheus.query_until(promql, WITHIN, |points| {
        points.len() == 1 && ready(points[0].value)
    });
    assert_eq!(points.len(), 1, "{promql}: {points:?}");
    points[0].value
}

#[test]
fn three_jobs_merge_into_one_native_histogram_in_prometheus() {
    let Some(gateway) = Gateway::start("native") else {
        return;
    };
    let Some(prometheus) = Prometheus::start_native("native", &gateway) else {
        return;
    };
    let mut all: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for seed in 1..=3u64 {
        let job = format!("native_{seed}");
        let run = run_job(
            NATIVE_JOB,
            &[&seed.to_string()],
            &[
                ("PUSHGATEWAY_URL", &gateway.url()),
                ("PUSHGATEWAY_JOB", &job),
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{run:#?}");
        assert!(run.warnings().is_empty(), "{run:#?}");
        assert!(run.stdout.contains("done"), "{run:#?}");
        for (outcome, seconds) in durations(&run) {
            all.entry(outcome).or_default().extend(seconds);
        }
    }
    let every: Vec<f64> = all.values().flatten().copied().collect();
    assert_eq!(every.len(), 120);

    // Exact counts and sums, from a hand-made histogram of exact values.
    let count = one(
        &prometheus,
        "histogram_count(sum(native_job_hand_seconds))",
        |v| v == 306.0,
    );
    assert_eq!(count, 306.0);
    let sum = one(
        &prometheus,
        "histogram_sum(sum(native_job_hand_seconds))",
        |_| true,
    );
    assert_eq!(sum, 0.125 * 6.0 + 0.25 * 300.0);
    let median = one(
        &prometheus,
        "histogram_quantile(0.5, sum(native_job_hand_seconds))",
        |_| true,
    );
    assert!((0.25 / BUCKET_RATIO..=0.25).contains(&median), "{median}");

    // The timed stage, merged over the three jobs, and by outcome.
    let count = one(
        &prometheus,
        "histogram_count(sum(native_job_stage_seconds))",
        |v| v == 120.0,
    );
    assert_eq!(count, 120.0);
    let p99 = one(
        &prometheus,
        "histogram_quantile(0.99, sum(native_job_stage_seconds))",
        |_| true,
    );
    assert_within_the_schemas_error(p99, quantile(&every, 0.99), "merged p99");
    let by_outcome = prometheus.query_until(
        "histogram_quantile(0.99, sum by (outcome) (native_job_stage_seconds))",
        WITHIN,
        |points| points.iter().filter(|point| !point.value.is_nan()).count() == 2,
    );
    for point in &by_outcome {
        let outcome = &point.labels["outcome"];
        match all.get(outcome) {
            Some(seconds) => {
                assert_within_the_schemas_error(point.value, quantile(seconds, 0.99), outcome)
            }
            // A series of an outcome no call had (`panic`): empty, so no quantile.
            None => assert!(point.value.is_nan(), "{point:?}"),
        }
    }
    assert!(by_outcome.len() >= 2, "{by_outcome:?}");

    // What a reader of the text format gets from the gateway: the classic buckets made from
    // the native ones (exact at powers of 4), the count and the sum.
    let scrape = gateway.scrape();
    for seed in 1..=3u64 {
        let job = format!("native_{seed}");
        let at = |le: &str| {
            scrape.value(
                "native_job_hand_seconds_bucket",
                &[("job", &job), ("le", le)],
            )
        };
        assert_eq!(at("0.0625"), Some(0.0), "{job}");
        assert_eq!(at("0.25"), Some(seed as f64 + 100.0), "{job}");
        assert_eq!(at("+Inf"), Some(seed as f64 + 100.0), "{job}");
        assert_eq!(
            scrape
                .types
                .get("native_job_hand_seconds")
                .map(String::as_str),
            Some("histogram")
        );
    }
}

/// Runs the three jobs of the suite with `env` (a remote-write URL), each its own `job`.
fn run_three(env: &[(&str, &str)]) -> BTreeMap<String, Vec<f64>> {
    let mut all: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for seed in 1..=3u64 {
        let job = format!("native_{seed}");
        let mut env = env.to_vec();
        env.push(("PUSHGATEWAY_JOB", &job));
        let run = run_job(NATIVE_JOB, &[&seed.to_string()], &env);
        assert_eq!(run.status.code(), Some(0), "{run:#?}");
        assert!(run.warnings().is_empty(), "{run:#?}");
        for (outcome, seconds) in durations(&run) {
            all.entry(outcome).or_default().extend(seconds);
        }
    }
    all
}

/// By remote write to a Prometheus receiver with native histograms on: the same answers as
/// through the gateway (the `histograms` field of remote write 1.0).
#[test]
fn native_histograms_arrive_by_remote_write() {
    let Some(prometheus) = Prometheus::start_native_receiver("native_remote_write") else {
        return;
    };
    let all = run_three(&[("PUSHTIMER_REMOTE_WRITE_URL", &prometheus.write_url())]);
    let every: Vec<f64> = all.values().flatten().copied().collect();
    // An instant selector: the last write of each run is within its 5 minutes of look-back.
    // (Prometheus 2.42 answers nothing for `last_over_time` of a native histogram; later
    // versions do.)
    let last = |inner: &str| format!("sum({inner})");
    let count = one(
        &prometheus,
        &format!("histogram_count({})", last("native_job_hand_seconds")),
        |v| v == 306.0,
    );
    assert_eq!(count, 306.0);
    let sum = one(
        &prometheus,
        &format!("histogram_sum({})", last("native_job_hand_seconds")),
        |_| true,
    );
    assert_eq!(sum, 75.75);
    let count = one(
        &prometheus,
        &format!("histogram_count({})", last("native_job_stage_seconds")),
        |v| v == 120.0,
    );
    assert_eq!(count, 120.0);
    let p99 = one(
        &prometheus,
        &format!(
            "histogram_quantile(0.99, {})",
            last("native_job_stage_seconds")
        ),
        |_| true,
    );
    assert_within_the_schemas_error(p99, quantile(&every, 0.99), "merged p99 by remote write");
    // The float series beside it, for readers without native histograms.
    let classic = one(
        &prometheus,
        "sum(native_job_hand_seconds_bucket{le=\"0.25\"})",
        |_| true,
    );
    assert_eq!(classic, 306.0);
}

/// VictoriaMetrics 1.79 takes no native histograms: it keeps the float series written beside
/// them (classic buckets at powers of 4, `_sum`, `_count`), and the write is not refused.
#[test]
fn victoria_metrics_gets_the_classic_buckets() {
    let Some(victoria) = pushtimer_tests::VictoriaMetrics::start("native_victoria") else {
        return;
    };
    run_three(&[("PUSHTIMER_REMOTE_WRITE_URL", &victoria.write_url())]);
    // What was written becomes searchable at once, not at VictoriaMetrics' next flush.
    let flushed =
        pushtimer_tests::http_get(&format!("{}/internal/force_flush", victoria.base_url()));
    assert_eq!(flushed.map(|(code, _)| code), Some(200));
    let points = victoria.query_until(
        "sum(last_over_time(native_job_hand_seconds_bucket{le=\"0.25\"}[1h]))",
        WITHIN,
        |points| points.len() == 1 && points[0].value == 306.0,
    );
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].value, 306.0);
    let count = victoria.query_until(
        "sum(last_over_time(native_job_stage_seconds_count[1h]))",
        WITHIN,
        |points| points.len() == 1 && points[0].value == 120.0,
    );
    assert_eq!(count[0].value, 120.0, "{count:?}");
}

/// A Prometheus receiver without native histograms (2.42's default) refuses a whole write that
/// carries one (HTTP 500 "native histograms are disabled"): pushtimer says so once and writes
/// their float series from then on, so nothing else is lost.
#[test]
fn a_receiver_without_native_histograms_still_gets_everything_else() {
    let Some(prometheus) = Prometheus::start_receiver("native_receiver_off", &[]) else {
        return;
    };
    let run = run_job(
        NATIVE_JOB,
        &["1"],
        &[
            ("PUSHTIMER_REMOTE_WRITE_URL", &prometheus.write_url()),
            ("PUSHGATEWAY_JOB", "native_off"),
            // Several writes while it runs, not only the final one.
            ("PUSHGATEWAY_PUSH_INTERVAL", "50ms"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0]
            .contains("refuses native histograms (HTTP 500: native histograms are disabled)"),
        "{warnings:#?}"
    );
    let bucket = one(
        &prometheus,
        "sum(native_job_hand_seconds_bucket{le=\"0.25\"})",
        |v| v == 101.0,
    );
    assert_eq!(bucket, 101.0);
    let count = one(&prometheus, "sum(native_job_stage_seconds_count)", |v| {
        v == 40.0
    });
    assert_eq!(count, 40.0);
    let records = one(&prometheus, "count(pushtimer_job_exit_code)", |_| true);
    assert_eq!(records, 1.0, "the run's end is written too");
}
