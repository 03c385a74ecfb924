//! End to end, against real servers: the README's example batch job pushes to a real
//! Pushgateway, a real Prometheus scrapes it (`honor_labels: true`) and evaluates the shipped
//! alert rules; what Prometheus answers matches what the job printed, and `PushtimerJobFailed`
//! fires for the failing run and not for the successful one; and every query of the shipped
//! Grafana dashboard (`deploy/grafana/`) runs and returns data.
#![forbid(unsafe_code)]

use std::time::Duration;

use pushtimer_tests::{
    Gateway, JobRun, PromQl, Prometheus, assert_dashboard_answers, repository, run_job,
};

const BATCH_JOB: &str = env!("CARGO_BIN_EXE_batch_job");
const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");
/// How long Prometheus may take to scrape and evaluate (it does both every second).
const WITHIN: Duration = Duration::from_secs(30);

fn run_example(gateway: &Gateway, job: &str, args: &[&str]) -> JobRun {
    run_job(
        BATCH_JOB,
        args,
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", job),
            ("PUSHTIMER_EXPECTED_INTERVAL", "24h"),
        ],
    )
}

/// The average call time, in milliseconds, that the job printed for `metric` with `labels`
/// (its table: metric, labels, count, sum, average).
fn printed_average_ms(run: &JobRun, metric: &str, labels: &str) -> f64 {
    run.stdout
        .lines()
        .find_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            match columns.as_slice() {
                [name, found, _, _, average] if *name == metric && *found == labels => {
                    average.parse().ok()
                }
                _ => None,
            }
        })
        .unwrap_or_else(|| panic!("{metric} {labels} not in the job's table: {}", run.stdout))
}

/// A value of the exposition the job printed.
fn printed_value(run: &JobRun, series: &str) -> f64 {
    run.stdout
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{series} not printed: {}", run.stdout))
}

#[test]
fn the_example_job_answers_in_prometheus_and_its_failure_alerts() {
    let Some(gateway) = Gateway::start("end_to_end") else {
        return;
    };
    let rules = repository().join("deploy/prometheus/pushtimer-rules.yml");
    let Some(prometheus) = Prometheus::start("end_to_end", &gateway, &[&rules]) else {
        return;
    };

    let ok = run_example(&gateway, "etl_ok", &[]);
    assert_eq!(ok.status.code(), Some(0), "{ok:#?}");
    let failed = run_example(&gateway, "etl_fail", &["--fail"]);
    assert_eq!(failed.status.code(), Some(1), "{failed:#?}");

    // A stage's average call time, as the job printed it (milliseconds, one decimal).
    let average = prometheus.query_until(
        r#"1000 * etl_transform_seconds_sum{job="etl_ok",outcome="ok"} / etl_transform_seconds_count{job="etl_ok",outcome="ok"}"#,
        WITHIN,
        |points| points.len() == 1,
    );
    assert_eq!(average.len(), 1, "{average:#?}");
    let printed = printed_average_ms(&ok, "etl_transform_seconds", r#"outcome="ok""#);
    assert!(
        (average[0].value - printed).abs() <= 0.05,
        "Prometheus {} ms, the job printed {printed} ms",
        average[0].value
    );

    // The run's duration: at least what it had run when it printed its exposition (the final
    // push at exit comes after).
    let duration = prometheus.query_until(
        r#"pushtimer_job_duration_seconds{job="etl_ok"}"#,
        WITHIN,
        |points| points.len() == 1,
    );
    assert_eq!(duration.len(), 1, "{duration:#?}");
    let printed = printed_value(&ok, "pushtimer_job_duration_seconds ");
    assert!(
        duration[0].value >= printed,
        "{} < {printed}",
        duration[0].value
    );

    // The failing run fires PushtimerJobFailed, the successful one does not.
    let firing = prometheus.query_until(
        r#"ALERTS{alertname="PushtimerJobFailed",alertstate="firing"}"#,
        WITHIN,
        |points| {
            points
                .iter()
                .any(|p| p.labels.get("job").map(String::as_str) == Some("etl_fail"))
        },
    );
    let jobs: Vec<&str> = firing
        .iter()
        .filter_map(|point| point.labels.get("job").map(String::as_str))
        .collect();
    assert_eq!(jobs, vec!["etl_fail"], "{firing:#?}");
    let exit_codes = prometheus.query(r#"pushtimer_job_exit_code{job=~"etl_.*"}"#);
    assert_eq!(exit_codes.len(), 2, "{exit_codes:#?}");
    for point in &exit_codes {
        let expected = if point.labels["job"] == "etl_fail" {
            1.0
        } else {
            0.0
        };
        assert_eq!(point.value, expected, "{point:#?}");
    }

    assert_dashboard_answers(
        &repository().join("deploy/grafana/pushtimer-batch-jobs.json"),
        &|expr| prometheus.query_until(expr, WITHIN, |points| !points.is_empty()),
    );
    check_merged_histograms(&gateway, &prometheus);
}

/// Three jobs push a third each of 300 durations spread evenly over (0, 1) s into histograms
/// with buckets every 0.1 s; merged by Prometheus, their p99 is the whole set's, to within a
/// bucket's width.
fn check_merged_histograms(gateway: &Gateway, prometheus: &Prometheus) {
    for part in ["0", "1", "2"] {
        let run = run_job(
            PROMISE_JOB,
            &["spread", part],
            &[
                ("PUSHGATEWAY_URL", &gateway.url()),
                ("PUSHGATEWAY_JOB", "spread"),
                ("PUSHGATEWAY_GROUPING", &format!("part={part}")),
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{run:#?}");
    }
    let query = r#"histogram_quantile(0.99, sum by (le) (promise_job_spread_seconds_bucket{job="spread"}))"#;
    let count = prometheus.query_until(
        r#"sum(promise_job_spread_seconds_count{job="spread"})"#,
        WITHIN,
        |points| points.first().is_some_and(|p| p.value == 300.0),
    );
    assert_eq!(count.first().map(|p| p.value), Some(300.0), "{count:#?}");
    let p99 = prometheus.query(query);
    // The 297th of 300 evenly spread durations: (296 + 0.5) / 300 s.
    let exact = 296.5 / 300.0;
    let merged = p99.first().map(|p| p.value).unwrap_or(f64::NAN);
    assert!(
        (merged - exact).abs() <= 0.1,
        "merged p99 {merged} vs {exact}"
    );
}
