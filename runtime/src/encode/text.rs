//! The text exposition format (0.0.4), what the Pushgateway, the node exporter's textfile
//! collector and a scrape take.

use prometheus::proto::MetricFamily;
use prometheus::{Encoder, TextEncoder};

use crate::diagnostics::Note;

/// The text exposition of `families`, and the problem if one could not be encoded.
pub(crate) fn encode(families: &[MetricFamily]) -> (String, Option<Note>) {
    let mut buffer = Vec::new();
    let problem = TextEncoder::new()
        .encode(families, &mut buffer)
        .err()
        .map(|error| Note::warn(format!("cannot encode the metrics: {error}")));
    let text = String::from_utf8(buffer)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    (text, problem)
}
