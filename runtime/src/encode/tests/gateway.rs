//! The protobuf and text bodies through a real Pushgateway (Debian's 1.5.1): what it keeps
//! and shows of each type, native histograms included.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::fixtures::native_histogram;
use super::protobuf::{decode_all, to_model};
use super::support::{Answer, find_binary, http, skip};
use crate::encode::{protobuf, text};
use crate::model::family::{Bucket, Family, Histogram, Kind, Metric, Quantile, Summary, Value};

/// A `prometheus-pushgateway` on a free loopback port, without persistence; killed (and
/// reaped) when dropped.
struct Gateway {
    child: Child,
    port: u16,
}

impl Gateway {
    /// Started and ready, or `None` after saying visibly that `test` is skipped.
    fn start(test: &str) -> Option<Gateway> {
        let Some(binary) = find_binary("prometheus-pushgateway") else {
            skip(test, "prometheus-pushgateway", "prometheus-pushgateway");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(binary)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--persistence.file=")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the Pushgateway starts");
        let mut gateway = Gateway { child, port };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = gateway.child.try_wait() {
                panic!("the Pushgateway exited before it was ready: {status}");
            }
            if gateway
                .get("/-/ready", &[])
                .is_some_and(|a| a.status == 200)
            {
                return Some(gateway);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the Pushgateway was not ready within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Option<Answer> {
        http(self.port, "GET", path, headers, b"")
    }

    fn put(&self, path: &str, content_type: &str, body: &[u8]) -> Answer {
        http(
            self.port,
            "PUT",
            path,
            &[("Content-Type", content_type)],
            body,
        )
        .expect("the Pushgateway answers")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A counter, a summary with quantiles, a classic histogram, native histograms (alone and
/// with classic buckets), all labelled.
fn families() -> Vec<Family> {
    let classic = Histogram {
        count: 4,
        sum: 2.5,
        buckets: vec![
            Bucket {
                upper_bound: 0.1,
                cumulative_count: 1,
            },
            Bucket {
                upper_bound: 1.0,
                cumulative_count: 3,
            },
        ],
        native: None,
    };
    let summary = Summary {
        count: 3,
        sum: 1.75,
        quantiles: vec![
            Quantile {
                quantile: 0.5,
                value: 0.5,
            },
            Quantile {
                quantile: 0.99,
                value: 1.0,
            },
        ],
    };
    vec![
        Family::new(
            "pt_model_rows_total",
            "Rows \"written\".\nAll.",
            Kind::Counter,
        )
        .with(Metric::new(
            &[("table", "a\\b\"c\nd")],
            Value::Counter(42.0),
        )),
        Family::new("pt_model_stage_seconds", "Stage time.", Kind::Summary)
            .with(Metric::new(&[("stage", "fit")], summary)),
        Family::new("pt_model_load_seconds", "Load time.", Kind::Histogram)
            .with(Metric::new(&[("stage", "load")], classic)),
        Family::new("pt_model_rpc_seconds", "RPC time.", Kind::Histogram)
            .with(Metric::new(&[("kind", "native")], native_histogram(false)))
            .with(Metric::new(&[("kind", "both")], native_histogram(true))),
    ]
}

/// `families` as the gateway holds them in the group `job`: its grouping labels first (they
/// sort before the families' own here), the series of a family sorted by their labels.
fn as_grouped(families: &[Family], job: &str) -> Vec<Family> {
    let mut grouped = families.to_vec();
    for family in &mut grouped {
        for metric in &mut family.metrics {
            let own = std::mem::take(&mut metric.labels);
            metric.labels = vec![
                ("instance".into(), String::new()),
                ("job".into(), job.into()),
            ];
            metric.labels.extend(own);
        }
        family.metrics.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    grouped.sort_by(|a, b| a.name.cmp(&b.name));
    grouped
}

/// What `text` (an exposition) says of the families named `pt_model_*`.
fn model_lines(text: &str) -> String {
    text.lines()
        .filter(|line| {
            let name = line
                .strip_prefix("# HELP ")
                .or_else(|| line.strip_prefix("# TYPE "))
                .unwrap_or(line);
            name.starts_with("pt_model_")
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

/// A counter, a summary, a classic and a native histogram (alone and with classic buckets),
/// pushed as delimited protobuf: the gateway takes them, shows in text exactly what the text
/// encoder writes of them (a native histogram as its +Inf bucket, sum and count), answers them
/// back in protobuf whole (schema, zero bucket, spans and deltas), and lists them in its JSON.
#[test]
fn the_pushgateway_takes_every_type_in_protobuf() {
    let test = "encode::tests::gateway::the_pushgateway_takes_every_type_in_protobuf";
    let Some(gateway) = Gateway::start(test) else {
        return;
    };
    let families = families();
    let (body, problems) = protobuf::to_vec(&families);
    assert!(problems.is_empty(), "{problems:?}");
    let answer = gateway.put("/metrics/job/model_protobuf", protobuf::CONTENT_TYPE, &body);
    assert!(
        (200..300).contains(&answer.status),
        "the gateway refused the push: {} {}",
        answer.status,
        answer.text()
    );
    let grouped = as_grouped(&families, "model_protobuf");

    // Text: what the text encoder writes of the same families in the group.
    let shown = gateway
        .get("/metrics", &[])
        .expect("the gateway's /metrics");
    assert_eq!(shown.status, 200);
    let (expected, _) = text::to_string(&grouped);
    assert_eq!(model_lines(&shown.text()), expected);
    assert!(expected.contains(
        "pt_model_rpc_seconds_bucket{instance=\"\",job=\"model_protobuf\",kind=\"native\",le=\"+Inf\"} 9\n\
         pt_model_rpc_seconds_sum{instance=\"\",job=\"model_protobuf\",kind=\"native\"} 4.25\n"
    ));

    // Protobuf: every family back as it was pushed, native buckets and all.
    let answered = gateway
        .get("/metrics", &[("Accept", protobuf::CONTENT_TYPE)])
        .expect("the gateway's /metrics in protobuf");
    assert_eq!(answered.status, 200);
    let content_type = answered
        .headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.as_str());
    assert!(
        content_type.is_some_and(|t| t.starts_with("application/vnd.google.protobuf")),
        "{content_type:?}"
    );
    let back: Vec<Family> = decode_all(&answered.body)
        .iter()
        .filter(|family| family.name().starts_with("pt_model_"))
        .map(to_model)
        .collect();
    assert_eq!(back, grouped);

    // JSON: the group, and each family's values.
    let json = gateway
        .get("/api/v1/metrics", &[])
        .expect("the gateway's JSON")
        .text();
    for fragment in [
        r#""labels":{"job":"model_protobuf"},"last_push_successful":true"#,
        r#""type":"COUNTER","help":"Rows \"written\".\nAll.","metrics":[{"labels":{"instance":"","job":"model_protobuf","table":"a\\b\"c\nd"},"value":"42"}]"#,
        r#""type":"SUMMARY","help":"Stage time.","metrics":[{"count":"3","labels":{"instance":"","job":"model_protobuf","stage":"fit"},"quantiles":{"0.5":"0.5","0.99":"1"},"sum":"1.75"}]"#,
        r#"{"buckets":{"0.1":"1","1":"3"},"count":"4","labels":{"instance":"","job":"model_protobuf","stage":"load"},"sum":"2.5"}"#,
        r#"{"buckets":{},"count":"9","labels":{"instance":"","job":"model_protobuf","kind":"native"},"sum":"4.25"}"#,
        r#"{"buckets":{"0.5":"3","2":"8"},"count":"9","labels":{"instance":"","job":"model_protobuf","kind":"both"},"sum":"4.25"}"#,
    ] {
        assert!(json.contains(fragment), "{fragment}\nnot in\n{json}");
    }
}

/// The text body of the same families is taken too, and what the gateway then holds of the
/// native histograms is what the text showed: no native buckets.
#[test]
fn the_pushgateway_takes_the_same_families_in_text() {
    let test = "encode::tests::gateway::the_pushgateway_takes_the_same_families_in_text";
    let Some(gateway) = Gateway::start(test) else {
        return;
    };
    let (body, problems) = text::to_string(&families());
    assert!(problems.is_empty(), "{problems:?}");
    let answer = gateway.put(
        "/metrics/job/model_text",
        text::CONTENT_TYPE,
        body.as_bytes(),
    );
    assert!(
        (200..300).contains(&answer.status),
        "the gateway refused the push: {} {}",
        answer.status,
        answer.text()
    );
    let shown = gateway
        .get("/metrics", &[])
        .expect("the gateway's /metrics");
    let (expected, _) = text::to_string(&as_grouped(&families(), "model_text"));
    assert_eq!(model_lines(&shown.text()), expected);
    let answered = gateway
        .get("/metrics", &[("Accept", protobuf::CONTENT_TYPE)])
        .expect("the gateway's /metrics in protobuf");
    let rpc = decode_all(&answered.body)
        .into_iter()
        .find(|family| family.name() == "pt_model_rpc_seconds")
        .expect("pt_model_rpc_seconds");
    for metric in &rpc.metric {
        let histogram = metric.histogram.as_ref().expect("a histogram");
        assert_eq!(histogram.schema, None);
        assert!(histogram.positive_span.is_empty());
    }
}
