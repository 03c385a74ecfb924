//! End to end, against real servers: the README's example batch job pushes to a real
//! Pushgateway, a real Prometheus scrapes it (`honor_labels: true`) and evaluates the shipped
//! alert rules; what Prometheus answers matches what the job printed, and `PushtimerJobFailed`
//! fires for the failing run and not for the successful one; and every query of the shipped
//! Grafana dashboard (`deploy/grafana/`), panels and annotations, runs and returns data: its
//! status table one row per group (the shards of an Indexed Job and of a job with its own
//! grouping label apart), the hand-made summaries and histograms and the user's own labels,
//! counters and gauges shown as the job made them, a stage's throughput as its counter over
//! its time.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pushtimer_tests::{
    Gateway, JobRun, Point, PromQl, Prometheus, assert_dashboard_answers, repository, run_job,
};

const BATCH_JOB: &str = env!("CARGO_BIN_EXE_batch_job");
const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");
/// How long Prometheus may take to scrape and evaluate (it does both every second).
const WITHIN: Duration = Duration::from_secs(30);

fn run_example(gateway: &Gateway, job: &str, args: &[&str]) -> JobRun {
    run_example_with(gateway, job, args, &[])
}

/// [`run_example`] with more of the environment.
fn run_example_with(gateway: &Gateway, job: &str, args: &[&str], env: &[(&str, &str)]) -> JobRun {
    let url = gateway.url();
    let mut all = vec![
        ("PUSHGATEWAY_URL", url.as_str()),
        ("PUSHGATEWAY_JOB", job),
        ("PUSHTIMER_EXPECTED_INTERVAL", "24h"),
    ];
    all.extend_from_slice(env);
    run_job(BATCH_JOB, args, &all)
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
    // Two pods of an Indexed Job: a group each, `completion_index` from JOB_COMPLETION_INDEX.
    for index in ["0", "1"] {
        let env = [("JOB_COMPLETION_INDEX", index)];
        let run = run_example_with(&gateway, "etl_indexed", &[], &env);
        assert_eq!(run.status.code(), Some(0), "{run:#?}");
    }
    // Three parts of a job with a grouping label of its own, with a hand-made histogram.
    push_the_spread(&gateway);
    // Two runs of a CronJob whose PUSHTIMER_LABELS name its pod and node, as deploy/kubernetes
    // does: the labels change from run to run, the group stays. The first run succeeds, the
    // second fails.
    for (labels, args) in [
        ("pod=cron-a,node=n1", &[][..]),
        ("pod=cron-b,node=n2", &["--fail"][..]),
    ] {
        let env = [("PUSHTIMER_LABELS", labels)];
        let run = run_example_with(&gateway, "etl_cron", args, &env);
        assert_eq!(
            run.status.code(),
            Some(i32::from(!args.is_empty())),
            "{run:#?}"
        );
    }

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

    // The failing runs fire PushtimerJobFailed, the successful ones do not; the cron job's
    // alert names the pod of its failed run.
    let firing = prometheus.query_until(
        r#"ALERTS{alertname="PushtimerJobFailed",alertstate="firing"}"#,
        WITHIN,
        |points| points.len() >= 2,
    );
    let mut jobs: Vec<(&str, Option<&str>)> = firing
        .iter()
        .filter_map(|point| {
            let pod = point.labels.get("pod").map(String::as_str);
            Some((point.labels.get("job")?.as_str(), pod))
        })
        .collect();
    jobs.sort();
    assert_eq!(
        jobs,
        [("etl_cron", Some("cron-b")), ("etl_fail", None)],
        "{firing:#?}"
    );
    let exit_codes = prometheus.query(r#"pushtimer_job_exit_code{job=~"etl_ok|etl_fail"}"#);
    assert_eq!(exit_codes.len(), 2, "{exit_codes:#?}");
    for point in &exit_codes {
        let expected = if point.labels["job"] == "etl_fail" {
            1.0
        } else {
            0.0
        };
        assert_eq!(point.value, expected, "{point:#?}");
    }

    // Every group's last push scraped (one scrape holds them all, and the jobs have ended), so
    // that the dashboard's queries see them all.
    let complete = prometheus.query_until(
        "count(pushtimer_job_exit_code) == 8 and count(pushtimer_job_duration_seconds) == 8",
        WITHIN,
        |points| !points.is_empty(),
    );
    assert!(!complete.is_empty(), "not all 8 groups scraped");
    let answers = assert_dashboard_answers(
        &repository().join("deploy/grafana/pushtimer-batch-jobs.json"),
        &|expr| prometheus.query_until(expr, WITHIN, |points| !points.is_empty()),
    );
    check_the_dashboard(&answers, &ok, &prometheus);
    check_merged_histograms(&prometheus);
}

/// Three jobs push a third each of 300 durations spread evenly over (0, 1) s into a hand-made
/// histogram with buckets every 0.1 s, as the job `spread` with the grouping label `part`.
fn push_the_spread(gateway: &Gateway) {
    for part in ["0", "1", "2"] {
        let run = run_job(
            PROMISE_JOB,
            &["spread", part],
            &[
                ("PUSHGATEWAY_URL", &gateway.url()),
                ("PUSHGATEWAY_JOB", "spread"),
                ("PUSHGATEWAY_GROUPING", &format!("part={part}")),
                ("PUSHTIMER_EXPECTED_INTERVAL", "24h"),
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{run:#?}");
    }
}

/// The labels of a point, as `(name, value)` pairs, for comparing.
fn labels(point: &Point) -> BTreeSet<(&str, &str)> {
    point
        .labels
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

/// The points of an answer whose labels include all of `wanted`.
fn matching<'a>(answer: &'a [Point], wanted: &[(&str, &str)]) -> Vec<&'a Point> {
    answer
        .iter()
        .filter(|point| {
            wanted
                .iter()
                .all(|(name, value)| point.labels.get(*name).map(String::as_str) == Some(value))
        })
        .collect()
}

/// What the dashboard shows of the runs above, beyond "data": `ok` is the run of `etl_ok`.
fn check_the_dashboard(
    answers: &BTreeMap<String, Vec<Point>>,
    ok: &JobRun,
    prometheus: &Prometheus,
) {
    let answer = |key: &str| -> &[Point] {
        answers
            .get(key)
            .unwrap_or_else(|| panic!("no panel query {key}: {:?}", answers.keys()))
    };
    let one = |key: &str, wanted: &[(&str, &str)]| -> f64 {
        let found = matching(answer(key), wanted);
        assert_eq!(found.len(), 1, "{key} {wanted:?}: {:#?}", answer(key));
        found[0].value
    };

    // The status table: one row per group (every query of it returns the same label sets,
    // which assert_dashboard_answers checked), the shards apart, the cron job's runs (each with
    // its pod and node) one group.
    let rows: BTreeSet<BTreeSet<(&str, &str)>> =
        answer("Job status/A").iter().map(labels).collect();
    let expected: BTreeSet<BTreeSet<(&str, &str)>> = [
        vec![("job", "etl_ok")],
        vec![("job", "etl_fail")],
        vec![("job", "etl_indexed"), ("completion_index", "0")],
        vec![("job", "etl_indexed"), ("completion_index", "1")],
        vec![("job", "spread"), ("part", "0")],
        vec![("job", "spread"), ("part", "1")],
        vec![("job", "spread"), ("part", "2")],
        vec![("job", "etl_cron")],
    ]
    .into_iter()
    .map(|row| row.into_iter().collect())
    .collect();
    assert_eq!(rows, expected);
    assert_eq!(
        one("Job status/C", &[("job", "etl_fail")]),
        1.0,
        "exit code"
    );
    assert_eq!(
        one("Job status/D", &[("job", "etl_fail")]),
        -1.0,
        "never succeeded"
    );
    let since = one("Job status/D", &[("job", "etl_ok")]);
    assert!(since >= 0.0, "{since}");
    // The cron job's last run failed; its last success is its first run's, in another pod.
    assert_eq!(one("Job status/C", &[("job", "etl_cron")]), 1.0);
    let since = one("Job status/D", &[("job", "etl_cron")]);
    assert!(since >= 0.0, "{since}");

    // The per-stage panels: a timed function's own labels kept (`stage="load"` is the
    // example's, not the function's name), the hand-made summary (no outcome) shown.
    for key in [
        "Average time per call, by stage/A",
        "p99 time per call, by stage/A",
    ] {
        let load = one(
            key,
            &[
                ("job", "etl_ok"),
                ("metric", "etl_load_shard"),
                ("stage", "load"),
            ],
        );
        assert!(load > 0.0, "{key}: {load}");
        let stages: Vec<_> = answer(key)
            .iter()
            .filter_map(|p| p.labels.get("stage"))
            .collect();
        assert!(
            stages.iter().all(|stage| *stage == "load"),
            "{key}: {stages:?}"
        );
    }
    // The hand-made summary's average, as the job printed it (milliseconds, one decimal).
    let queue_wait = one(
        "Average time per call, by stage/A",
        &[
            ("job", "etl_ok"),
            ("metric", "etl_queue_wait"),
            ("queue", "nightly"),
        ],
    );
    let printed = printed_average_ms(ok, "etl_queue_wait_seconds", r#"queue="nightly""#);
    assert!(
        (queue_wait * 1000.0 - printed).abs() <= 0.05,
        "{queue_wait} s, the job printed {printed} ms"
    );
    // The hand-made histogram's p99, per part (the parts are not merged).
    for part in ["0", "1", "2"] {
        let p99 = one(
            "p99 time per call, by stage/A",
            &[
                ("job", "spread"),
                ("part", part),
                ("metric", "promise_job_spread"),
            ],
        );
        assert!(p99 > 0.0 && p99 <= 1.0, "part {part}: {p99}");
    }
    let summary_p99 = one(
        "p99 time per call, by stage/B",
        &[("job", "etl_ok"), ("metric", "etl_transform")],
    );
    let direct =
        prometheus.query(r#"etl_transform_seconds{job="etl_ok",outcome="ok",quantile="0.99"}"#);
    assert_eq!(
        direct.first().map(|p| p.value),
        Some(summary_p99),
        "{direct:?}"
    );

    // Throughput: etl_transform_rows_total over etl_transform's seconds, every outcome.
    let throughput = one(
        "Throughput by stage/A",
        &[
            ("job", "etl_ok"),
            ("metric", "etl_transform"),
            ("unit", "rows"),
        ],
    );
    let direct = prometheus.query(
        r#"etl_transform_rows_total{job="etl_ok"} / sum without (outcome) (etl_transform_seconds_sum{job="etl_ok"})"#,
    );
    let direct = direct.first().map_or(f64::NAN, |p| p.value);
    assert!(
        (throughput - direct).abs() <= 1e-9 * direct,
        "{throughput} vs {direct}"
    );
    let rows = printed_value(ok, "etl_transform_rows_total ");
    assert!(rows > 0.0, "{rows}");

    // The user's own counter and gauge, as the job printed them, and nothing of pushtimer's.
    let own = |name: &str| {
        one(
            "Your counters and gauges/A",
            &[("job", "etl_ok"), ("__name__", name)],
        )
    };
    assert_eq!(own("etl_transform_rows_total"), rows);
    assert_eq!(
        own("etl_feature_rows"),
        printed_value(ok, "etl_feature_rows ")
    );
    for point in answer("Your counters and gauges/A") {
        let name = point.labels.get("__name__").map_or("", String::as_str);
        assert!(
            !name.starts_with("pushtimer_")
                && !name.starts_with("push_")
                && !name.contains("_seconds"),
            "not the user's: {point:?}"
        );
    }

    // A run's start and end, at their times in milliseconds (a Unix time in seconds would be
    // below 1.7e12), in the order they happened; the end with its exit code.
    let started = one("annotation/Run start", &[("job", "etl_ok")]);
    let ended = one(
        "annotation/Run end",
        &[("job", "etl_ok"), ("exit_code", "0")],
    );
    let failed = one(
        "annotation/Run end",
        &[("job", "etl_fail"), ("exit_code", "1")],
    );
    assert!(
        started > 1.7e12 && started < ended && ended < failed,
        "{started} {ended} {failed}"
    );
}

/// The three parts of `spread` (see [`push_the_spread`]), merged by Prometheus: their p99 is the
/// whole set's, to within a bucket's width.
fn check_merged_histograms(prometheus: &Prometheus) {
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
