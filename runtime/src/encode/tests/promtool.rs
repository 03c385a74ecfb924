//! The text encoder's output through `promtool check metrics`, Prometheus' own parser and
//! linter.
//!
//! promtool 2.42 exits 0 when the exposition parses and has no lint problem, 3 when it parses
//! but has lint problems (each on stderr as `<name> <problem>`), and 1 when it does not parse
//! (`error while linting: text format parsing error in line N: ...` on stderr).

use std::io::Write;
use std::process::{Command, Stdio};

use super::fixtures::{AWKWARD, AWKWARD_HELP, native_histogram};
use super::support::{find_binary, skip};
use crate::encode::text;
use crate::model::family::{Family, Kind, Metric, Summary, Value};

/// What promtool made of an exposition.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// It parses, no lint problem.
    Clean,
    /// It parses; these lint problems (`<name> <problem>` lines).
    Lint(Vec<String>),
    /// It does not parse: promtool's error.
    Refused(String),
}

/// `text` through `promtool check metrics`.
fn check(promtool: &std::path::Path, text: &str) -> Verdict {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(text.as_bytes())
        .expect("promtool reads the exposition");
    let output = child.wait_with_output().expect("promtool ends");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.code() {
        Some(0) => Verdict::Clean,
        Some(3) => Verdict::Lint(stderr.lines().map(str::to_owned).collect()),
        _ => Verdict::Refused(format!("{}: {stderr}", output.status)),
    }
}

/// A family of each type, with awkward label values and HELP texts, and a native histogram
/// (classic buckets alongside or not) as the text shows it.
fn families() -> Vec<Family> {
    let counter = AWKWARD.iter().fold(
        Family::new("jobs_done_total", AWKWARD_HELP[1], Kind::Counter),
        |f, v| f.with(Metric::new(&[("shard", v)], Value::Counter(3.0))),
    );
    vec![
        counter,
        Family::new("queue_depth", AWKWARD_HELP[2], Kind::Gauge)
            .with(Metric::new(&[], Value::Gauge(f64::NAN)))
            .with(Metric::new(&[("q", "a")], Value::Gauge(f64::NEG_INFINITY)))
            .with(Metric::new(&[("q", "b")], Value::Gauge(f64::INFINITY)))
            .with(Metric::new(&[("q", "c")], Value::Gauge(-0.0))),
        Family::new("legacy_value", AWKWARD_HELP[3], Kind::Untyped)
            .with(Metric::new(&[], Value::Untyped(1e-300))),
        Family::new("stage_seconds", "Stage time.", Kind::Summary).with(Metric::new(
            &[("stage", "fit")],
            Summary {
                count: u64::MAX,
                sum: 1e300,
                quantiles: vec![
                    crate::model::family::Quantile {
                        quantile: 0.5,
                        value: 0.25,
                    },
                    crate::model::family::Quantile {
                        quantile: 0.99,
                        value: f64::NAN,
                    },
                ],
            },
        )),
        Family::new("rpc_seconds", "RPC time.", Kind::Histogram)
            .with(Metric::new(&[("kind", "native")], native_histogram(false)))
            .with(Metric::new(&[("kind", "both")], native_histogram(true))),
    ]
}

/// Every type, awkward values and all, parses and lints clean; a lint problem and a syntax
/// error are told apart.
#[test]
fn promtool_takes_the_text_of_every_type() {
    let test = "encode::tests::promtool::promtool_takes_the_text_of_every_type";
    let Some(promtool) = find_binary("promtool") else {
        skip(test, "promtool", "prometheus");
        return;
    };
    let (written, problems) = text::to_string(&families());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(check(&promtool, &written), Verdict::Clean, "{written}");

    // A counter without `_total` and a family without HELP: parses, with lint problems.
    let lint = [
        Family::new("jobs_done", "Jobs.", Kind::Counter)
            .with(Metric::new(&[], Value::Counter(1.0))),
        Family::new("no_help", "", Kind::Gauge).with(Metric::new(&[], Value::Gauge(1.0))),
    ];
    let (written, _) = text::to_string(&lint);
    let Verdict::Lint(problems) = check(&promtool, &written) else {
        panic!("promtool should lint {written:?}");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("jobs_done counter metrics should have \"_total\" suffix"));
    assert!(
        problems[1].starts_with("no_help no help text"),
        "{problems:?}"
    );

    // A syntax error is refused, not linted: a label value with a raw line feed.
    let Verdict::Refused(why) = check(&promtool, "broken{a=\"b\nc\"} 1\n") else {
        panic!("promtool should refuse a raw line feed in a label value");
    };
    assert!(why.contains("parsing error"), "{why}");
}
