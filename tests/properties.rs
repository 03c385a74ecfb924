//! Property tests of the exposition: HELP texts and label values of any content (backslashes,
//! quotes, newlines, any Unicode) survive pushtimer's rendering, the harness's reader, and a
//! round trip through a real Pushgateway.
//!
//! The registry is process-wide and never forgets a series, so every case registers a summary
//! of its own, `prop_esc_<n>`, and [`pushtimer::render`] shows all the cases so far: that is
//! fine, each case looks only at its own family.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use pushtimer_tests::{Gateway, Scrape};

/// The label every case sets; its value is the text under test.
const LABEL: &str = "k";

static NEXT_CASE: AtomicU64 = AtomicU64::new(0);

/// The configuration of this test binary: nothing from the environment (no gateway, no
/// namespace, no global labels), so the names and labels are exactly the ones asked for.
fn hermetic() {
    let _ = pushtimer::Config::new().install();
}

/// One registered summary with its HELP, label value and observations.
#[derive(Debug)]
struct Case {
    /// The family name, `prop_esc_<n>_seconds`.
    family: String,
    help: String,
    value: String,
    count: u64,
    sum: f64,
}

impl Case {
    /// Registers a fresh summary and records `observations` (seconds) into it.
    fn register(help: &str, value: &str, observations: &[f64]) -> Case {
        let name = format!("prop_esc_{}", NEXT_CASE.fetch_add(1, Ordering::Relaxed));
        let summary = pushtimer::Summary::builder(&name)
            .help(help)
            .label(LABEL, value)
            .register()
            .expect("a valid name and label");
        for seconds in observations {
            summary.observe(*seconds).expect("a valid observation");
        }
        Case {
            family: format!("{name}_seconds"),
            help: help.to_owned(),
            value: value.to_owned(),
            count: observations.len() as u64,
            sum: observations.iter().sum(),
        }
    }

    /// The family reads back from `scrape` with its HELP, its type, and `_sum` and `_count`
    /// samples whose labels are exactly `k=<value>` plus `extra` (what a gateway adds).
    fn check(&self, scrape: &Scrape, extra: &[(&str, &str)]) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            scrape.help.get(&self.family),
            Some(&self.help),
            "HELP of {}",
            self.family
        );
        prop_assert_eq!(
            scrape.types.get(&self.family).map(String::as_str),
            Some("summary"),
            "TYPE of {}",
            self.family
        );
        let mut labels: BTreeMap<String, String> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        labels.insert(LABEL.to_owned(), self.value.clone());
        for (suffix, expected) in [("_sum", self.sum), ("_count", self.count as f64)] {
            let name = format!("{}{suffix}", self.family);
            let samples: Vec<_> = scrape.samples.iter().filter(|s| s.name == name).collect();
            prop_assert_eq!(samples.len(), 1, "one {} sample", name);
            prop_assert_eq!(&samples[0].labels, &labels, "labels of {}", name);
            prop_assert_eq!(samples[0].value, expected, "value of {}", name);
        }
        Ok(())
    }
}

/// Any string, with what the exposition escapes or could trip over made likely.
fn text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\\", "\\\\", "\\n", "\"", "\\\"", "\n", "\r", "\r\n", "\t", " ", "n", "a", "{", "}", ",",
        "=", "#", "# HELP", "é", "ß", "🦀", "\u{0}", "\u{7f}", "\u{feff}", "\u{2028}",
    ]);
    prop_oneof![
        any::<String>(),
        prop::collection::vec(pieces, 0..12).prop_map(|pieces| pieces.concat()),
    ]
}

/// Any non-empty HELP text: an empty one is replaced by a default HELP (see
/// `empty_help_is_still_exported`), so it does not come back as itself.
fn help_text() -> impl Strategy<Value = String> {
    text().prop_filter("empty HELP", |help| !help.is_empty())
}

/// [`help_text`] not starting with a space or a tab: the text format cannot carry those (the
/// Pushgateway's parser skips all blanks between the metric name and the HELP text; the
/// gateway test checks that loss on a fixed case).
fn gateway_help_text() -> impl Strategy<Value = String> {
    help_text().prop_filter("HELP starting with a blank", |help| {
        !help.starts_with([' ', '\t'])
    })
}

/// One to three durations that are whole multiples of 0.25 s, so each is an exact number of
/// nanoseconds and their sum is exact in `f64`.
fn observations() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((0u32..4_000_000).prop_map(|q| f64::from(q) * 0.25), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Rendered, then read by the harness: the HELP, the label value and the numbers are the
    /// originals.
    #[test]
    fn help_and_label_values_survive_rendering(
        help in help_text(),
        value in text(),
        observations in observations(),
    ) {
        hermetic();
        let case = Case::register(&help, &value, &observations);
        let text = pushtimer::render();
        case.check(&Scrape::parse(&text), &[])?;
    }
}

const JOB: &str = "properties";

/// Pushes everything rendered so far to the job's group (PUT) and checks that `case` reads
/// back from the gateway as it was registered.
fn push_and_check(
    gateway: &Gateway,
    pusher: &pushtimer::Pusher,
    case: &Case,
) -> Result<(), TestCaseError> {
    let text = pushtimer::render();
    pusher
        .push(&text)
        .map_err(|e| TestCaseError::fail(format!("push of {case:?} failed: {e}")))?;
    case.check(&gateway.scrape(), &[("job", JOB), ("instance", "")])
}

#[test]
fn escaped_text_survives_a_real_pushgateway() {
    let Some(gateway) = Gateway::start("escaped_text_survives_a_real_pushgateway") else {
        return;
    };
    hermetic();
    let pusher = pushtimer::Pusher::new(gateway.url(), JOB).expect("a valid gateway and job");

    let fixed = [
        ("A back\\slash in the middle.", "C:\\temp\\x"),
        ("Two \\\\ backslashes.", "\\\\server\\share"),
        ("\"Quoted\" help, and 'single'.", "say \"hi\""),
        ("First line.\nSecond line.\n", "line one\nline two"),
        ("The text \\n is not a newline.", "literal \\n here"),
        ("Backslash then newline: \\\nend.", "\\\n\\\"\\"),
        ("Emoji 🦀⏱️ and accents: grüße, naïve.", "🦀 ⏱️ Ωμέγα"),
        ("Ends with a backslash \\", "ends with a backslash \\"),
        ("Braces {} and = , # inside.", "a=\"b\",c}{"),
        (
            "Tab\there, and a NUL \u{0} and DEL \u{7f}.",
            "\t\u{0}\u{7f}",
        ),
        ("x", ""),
        (
            "Trailing blanks stay. \t ",
            " leading and trailing blanks in a value stay ",
        ),
    ];
    for (help, value) in fixed {
        let case = Case::register(help, value, &[1.5, 0.25]);
        if let Err(error) = push_and_check(&gateway, &pusher, &case) {
            panic!("{error}");
        }
    }

    // The one loss: blanks at the start of a HELP text cannot be carried by the text format;
    // the gateway's parser takes them as part of the separator after the metric name.
    let mut case = Case::register(" \t Indented help.", "v", &[1.0]);
    case.help = "Indented help.".to_owned();
    if let Err(error) = push_and_check(&gateway, &pusher, &case) {
        panic!("{error}");
    }

    let mut runner = TestRunner::new(ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(
        &(gateway_help_text(), text(), observations()),
        |(help, value, observations)| {
            let case = Case::register(&help, &value, &observations);
            push_and_check(&gateway, &pusher, &case)
        },
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// An empty HELP (which `prometheus::core::Desc::new` refuses) falls back to a default HELP, so
/// the series is still exported.
#[test]
fn empty_help_is_still_exported() {
    hermetic();
    let case = Case::register("", "v", &[1.0]);
    let scrape = Scrape::parse(&pushtimer::render());
    assert_eq!(
        scrape.value(&format!("{}_count", case.family), &[(LABEL, "v")]),
        Some(1.0),
        "{} is missing from the exposition",
        case.family
    );
}
