//! Histograms (`#[timed(buckets(...))]`, `pushtimer::Histogram`) through a real child job and a
//! real Pushgateway: the gateway takes them as histograms, with exact, cumulative buckets per
//! outcome.
#![forbid(unsafe_code)]

use pushtimer_tests::{Gateway, run_job};

const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

#[test]
fn the_gateway_holds_exact_cumulative_buckets() {
    let Some(gateway) = Gateway::start("histograms") else {
        return;
    };
    let run = run_job(
        PROMISE_JOB,
        &["histograms"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "histograms"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let scrape = gateway.scrape();
    assert_eq!(scrape.types["promise_job_upload_seconds"], "histogram");
    assert_eq!(scrape.types["promise_job_decode_seconds"], "histogram");
    let upload = |le: &str| {
        scrape.value(
            "promise_job_upload_seconds_bucket",
            &[("job", "histograms"), ("le", le)],
        )
    };
    assert_eq!(upload("0.1"), Some(2.0));
    assert_eq!(upload("1"), Some(4.0));
    assert_eq!(upload("+Inf"), Some(5.0));
    assert_eq!(
        scrape.value("promise_job_upload_seconds_count", &[("job", "histograms")]),
        Some(5.0)
    );
    assert_eq!(
        scrape.value("promise_job_upload_seconds_sum", &[("job", "histograms")]),
        Some(3.65)
    );
    for (outcome, calls) in [("ok", 1.0), ("error", 1.0), ("panic", 0.0)] {
        for le in ["0.5", "60", "+Inf"] {
            assert_eq!(
                scrape.value(
                    "promise_job_decode_seconds_bucket",
                    &[("job", "histograms"), ("le", le), ("outcome", outcome)]
                ),
                Some(calls),
                "{outcome} le={le}"
            );
        }
    }
}

/// `PUSHTIMER_QUANTILES` gives every timed function whole-run quantiles, which the gateway
/// takes as a summary's `{quantile="..."}` series, per outcome.
#[test]
fn quantiles_from_the_environment_reach_the_gateway() {
    let Some(gateway) = Gateway::start("env_quantiles") else {
        return;
    };
    let run = run_job(
        PROMISE_JOB,
        &["short"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", "quantiles"),
            ("PUSHTIMER_QUANTILES", "0.5, 0.99"),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let scrape = gateway.scrape();
    let labels = |q| [("job", "quantiles"), ("outcome", "ok"), ("quantile", q)];
    let sum = scrape
        .value(
            "promise_job_work_seconds_sum",
            &[("job", "quantiles"), ("outcome", "ok")],
        )
        .expect("the call's sum");
    for q in ["0.5", "0.99"] {
        let value = scrape
            .value("promise_job_work_seconds", &labels(q))
            .unwrap_or_else(|| panic!("no quantile {q}: {scrape:#?}"));
        // One call: every quantile is that call (to 1%, or the 1 µs floor of the sketch).
        assert!(
            (value - sum).abs() <= (sum * 0.01).max(1.1e-6),
            "{q}: {value} vs {sum}"
        );
    }
    assert_eq!(scrape.types["promise_job_work_seconds"], "summary");
}
