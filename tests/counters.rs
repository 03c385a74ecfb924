//! A job's own counters and gauges against a real Pushgateway and a real Prometheus: what
//! `count!`, `Counter` and `Gauge` recorded arrives with its value, HELP, TYPE, the
//! namespace and the process-wide labels; a refused value is counted where Prometheus sees it;
//! the throughput PromQL the docs give answers rows per second of the run; and a label made
//! from data stops at the cardinality limit, the rest in one overflow series, with one
//! warning.
#![forbid(unsafe_code)]

use std::time::Duration;

use pushtimer_tests::{Gateway, PromQl, Prometheus, Scrape, run_job};

const COUNTERS_JOB: &str = env!("CARGO_BIN_EXE_counters_job");
/// How long Prometheus may take to scrape (it does every second).
const WITHIN: Duration = Duration::from_secs(30);

/// The one value of `name` with `labels` (and `job`), or a panic naming what was found.
fn one(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    match scrape.find(name, labels).as_slice() {
        [one] => one.value,
        found => panic!("{name} {labels:?}: {found:?}"),
    }
}

#[test]
fn counters_and_gauges_reach_prometheus_with_the_jobs_naming() {
    let Some(gateway) = Gateway::start("counters") else {
        return;
    };
    let Some(prometheus) = Prometheus::start("counters", &gateway, &[]) else {
        return;
    };
    let job = "counters";
    let run = run_job(
        COUNTERS_JOB,
        &["400", "3"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", job),
            ("PUSHTIMER_NAMESPACE", "acme"),
            ("PUSHTIMER_LABELS", "team=data"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.stdout.contains("done"), "{run:#?}");
    // The two refusals, one warning each, naming the metric.
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("gauge acme_counters_job_rows_in_flight refused the value NaN")),
        "{warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("count!(\"counters_job_refunds_total\", -1) refused")),
        "{warnings:#?}"
    );

    let scrape = gateway.scrape();
    let mine = [("job", job), ("team", "data")];
    let stage = [("job", job), ("team", "data"), ("stage", "transform")];
    let rows = "acme_counters_job_transform_rows_total";
    assert_eq!(one(&scrape, rows, &stage), 400.0);
    assert_eq!(scrape.types[rows], "counter");
    assert_eq!(
        scrape.help[rows],
        format!("Count of `counters_job_transform_rows_total` kept by the job.")
    );
    let bytes = "acme_counters_job_read_bytes_total";
    assert_eq!(
        one(&scrape, bytes, &stage),
        40_000.0,
        "four threads, every add"
    );
    assert_eq!(scrape.help[bytes], "Bytes the job read.");
    let in_flight = "acme_counters_job_rows_in_flight";
    assert_eq!(
        one(&scrape, in_flight, &mine),
        0.0,
        "NaN refused, the value kept"
    );
    assert_eq!(scrape.types[in_flight], "gauge");
    let peak = one(&scrape, "acme_counters_job_rows_in_flight_peak", &mine);
    assert!((1.0..=4.0).contains(&peak), "{peak}");
    assert_eq!(
        scrape.help["acme_counters_job_rows_in_flight_peak"],
        "The most rows in flight at once."
    );
    for refused in [in_flight, "acme_counters_job_refunds_total"] {
        let labels = [("job", job), ("metric", refused)];
        assert_eq!(
            one(&scrape, "pushtimer_rejected_observations_total", &labels),
            1.0,
            "{refused}"
        );
    }
    assert!(
        scrape
            .find("acme_counters_job_refunds_total", &[])
            .iter()
            .all(|s| s.value == 0.0)
    );

    // Rows per second of the run, as the docs write it, from Prometheus.
    let throughput = "acme_counters_job_transform_rows_total / sum without (outcome) \
                      (acme_counters_job_transform_seconds_sum)";
    let points = prometheus.query_until(throughput, WITHIN, |points| !points.is_empty());
    let seconds = one(
        &scrape,
        "acme_counters_job_transform_seconds_sum",
        &[("job", job), ("outcome", "ok")],
    );
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(
        points[0].labels.get("stage").map(String::as_str),
        Some("transform")
    );
    assert_eq!(
        points[0].labels.get("team").map(String::as_str),
        Some("data")
    );
    let expected = 400.0 / seconds;
    assert!(
        (points[0].value - expected).abs() <= expected * 1e-9,
        "{} vs {expected}",
        points[0].value
    );
}

/// With a limit of 2, the third user's row and every later one land in the overflow series;
/// the first two keep theirs; one warning names the metric and the limit.
#[test]
fn a_label_made_from_data_stops_at_the_cardinality_limit() {
    let Some(gateway) = Gateway::start("counters_limit") else {
        return;
    };
    let job = "counters_limit";
    let run = run_job(
        COUNTERS_JOB,
        &["4", "10"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", job),
            ("PUSHTIMER_LABELS", "team=data"),
            ("PUSHTIMER_CARDINALITY_LIMIT", "2"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let warnings = run.warnings();
    let limit: Vec<_> = warnings
        .iter()
        .filter(|w| w.contains("label sets"))
        .collect();
    assert_eq!(limit.len(), 1, "{warnings:#?}");
    assert!(limit[0].contains("counters_job_rows_by_user_total reached its limit of 2 label sets (PUSHTIMER_CARDINALITY_LIMIT)"), "{limit:?}");
    let scrape = gateway.scrape();
    let by_user = scrape.find("counters_job_rows_by_user_total", &[("job", job)]);
    let users: Vec<(Option<&str>, Option<&str>, f64)> = by_user
        .iter()
        .map(|s| {
            (
                s.labels.get("user").map(String::as_str),
                s.labels.get("pushtimer_overflow").map(String::as_str),
                s.value,
            )
        })
        .collect();
    assert_eq!(users.len(), 3, "{users:?}");
    assert!(users.contains(&(Some("u0"), None, 1.0)), "{users:?}");
    assert!(users.contains(&(Some("u1"), None, 1.0)), "{users:?}");
    assert!(users.contains(&(None, Some("true"), 8.0)), "{users:?}");
    assert!(
        by_user
            .iter()
            .all(|s| s.labels.get("team").map(String::as_str) == Some("data"))
    );
    // Other metrics have limits of their own: the transform's series are all there.
    assert_eq!(
        one(
            &scrape,
            "counters_job_transform_rows_total",
            &[("job", job)]
        ),
        4.0
    );
}
