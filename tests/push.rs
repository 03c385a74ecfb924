//! In-process pushing to a real Pushgateway: the background thread, `flush()`, and the
//! exposition the gateway accepts (names, HELP, TYPE, labels, values).
//!
//! The configuration is process-wide, so this file holds one test.
#![forbid(unsafe_code)]

use std::time::Duration;

use pushtimer_tests::Gateway;

/// Trains the model.
///
/// More text that must not end up in HELP.
#[pushtimer::timed(name = "it_train", labels(stage = "fit"))]
fn train(epochs: u32) -> Result<u32, String> {
    if epochs == 0 {
        return Err("no epochs".into());
    }
    Ok(epochs)
}

#[pushtimer::timed(name = "it_fails_seconds", help = "Always fails.")]
fn fails() -> Result<(), std::fmt::Error> {
    Err(std::fmt::Error)?;
    Ok(())
}

#[pushtimer::timed]
async fn it_fetch(n: u32) -> u32 {
    n + 1
}

#[test]
fn timed_calls_reach_a_real_pushgateway() {
    let Some(gateway) = Gateway::start("timed_calls_reach_a_real_pushgateway") else {
        return;
    };
    pushtimer::Config::new()
        .gateway(gateway.url())
        .job("in_process")
        .namespace("pt")
        .label("team", "ml")
        .push_interval(Duration::from_millis(200))
        // The gateway is gone when the process exits (it is killed with the test's end), and
        // the final push at exit retries it until this deadline: 1 s, not the default 5 s.
        .timeout(Duration::from_secs(1))
        .install()
        .expect("first install");

    for epochs in 0..4 {
        let _ = train(epochs);
    }
    let _ = fails();
    assert_eq!(pushtimer_tests::block_on(it_fetch(1)), 2);
    let waits = pushtimer::Summary::builder("it_wait")
        .register()
        .expect("valid");
    waits.observe(0.5).expect("valid");
    waits.observe(2.0).expect("valid");
    assert!(waits.observe(f64::NAN).is_err());
    assert!(waits.observe(-1.0).is_err());
    assert!(waits.observe(f64::INFINITY).is_err());

    // The background thread pushes on its own, within about a push interval.
    let fit = [
        ("job", "in_process"),
        ("instance", ""),
        ("stage", "fit"),
        ("team", "ml"),
        ("outcome", "ok"),
    ];
    let scrape = gateway.scrape_until(Duration::from_secs(20), |s| {
        s.value("pt_it_train_seconds_count", &fit) == Some(3.0)
    });
    // `train(0)` returned an `Err`: its call is counted under `outcome="error"`.
    assert_eq!(scrape.value("pt_it_train_seconds_count", &fit), Some(3.0));
    let mut fit_error = fit;
    fit_error[4] = ("outcome", "error");
    assert_eq!(
        scrape.value("pt_it_train_seconds_count", &fit_error),
        Some(1.0)
    );
    assert_eq!(scrape.types["pt_it_train_seconds"], "summary");
    assert_eq!(scrape.help["pt_it_train_seconds"], "Trains the model.");

    // flush() pushes the latest state and waits for it.
    let _ = train(9);
    pushtimer::flush().expect("flush to a healthy gateway");
    let scrape = gateway.scrape();
    assert_eq!(scrape.value("pt_it_train_seconds_count", &fit), Some(4.0));
    let group = [("job", "in_process"), ("team", "ml")];
    let failed = [("job", "in_process"), ("outcome", "error")];
    assert_eq!(
        scrape.value("pt_it_fails_seconds_count", &failed),
        Some(1.0)
    );
    let ok = [("job", "in_process"), ("outcome", "ok")];
    assert_eq!(scrape.help["pt_it_fails_seconds"], "Always fails.");
    assert_eq!(scrape.value("pt_it_fetch_seconds_count", &ok), Some(1.0));
    assert_eq!(
        scrape.help["pt_it_fetch_seconds"],
        "Wall-clock time of one call of `push::it_fetch`, in seconds."
    );
    assert_eq!(scrape.value("pt_it_wait_seconds_count", &group), Some(2.0));
    assert_eq!(scrape.value("pt_it_wait_seconds_sum", &group), Some(2.5));
    assert_eq!(
        scrape.value(
            "pushtimer_rejected_observations_total",
            &[("metric", "pt_it_wait_seconds")]
        ),
        Some(3.0)
    );
    assert!(
        scrape
            .value("push_time_seconds", &[("job", "in_process")])
            .is_some()
    );

    // The configuration is fixed once installed.
    assert!(pushtimer::Config::new().install().is_err());
}
