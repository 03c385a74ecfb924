//! The body the Pushgateway takes for a set of families: the text format, or the delimited
//! protobuf format when a family has a native histogram (text would lose its buckets; the
//! gateway keeps what it is sent, and only protobuf carries them).

use crate::encode::{protobuf, text};
use crate::model::check::Problem;
use crate::model::family::Family;

/// An encoded body and its `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exposition {
    pub(crate) bytes: Vec<u8>,
    pub(crate) content_type: &'static str,
}

impl Exposition {
    /// Whether there is nothing in it (a push of nothing is not made).
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// `families` as the Pushgateway takes them, and what was left out. One encoding, never both:
/// text unless some family has a native histogram.
pub(crate) fn for_gateway(families: &[Family]) -> (Exposition, Vec<Problem>) {
    if families.iter().any(Family::has_native_histogram) {
        let (bytes, problems) = protobuf::to_vec(families);
        let exposition = Exposition {
            bytes,
            content_type: protobuf::CONTENT_TYPE,
        };
        return (exposition, problems);
    }
    let (text, problems) = text::to_string(families);
    let exposition = Exposition {
        // The `String`'s buffer itself: no copy.
        bytes: text.into_bytes(),
        content_type: text::CONTENT_TYPE,
    };
    (exposition, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::encode::tests::fixtures::native_histogram;
    use crate::model::family::{Kind, Metric, Value};

    fn gauge() -> Family {
        Family::new("g", "A gauge.", Kind::Gauge)
            .with(Metric::new(&[("a", "1")], Value::Gauge(2.0)))
    }

    /// Text for classic families, byte for byte the text encoder's; protobuf as soon as one
    /// family has a native histogram, with every family in it.
    #[test]
    fn text_unless_a_family_has_a_native_histogram() {
        let classic = [gauge()];
        let (body, problems) = for_gateway(&classic);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(body.content_type, text::CONTENT_TYPE);
        assert_eq!(body.bytes, text::to_string(&classic).0.into_bytes());

        let native = Family::new("h", "", Kind::Histogram)
            .with(Metric::new(&[], Value::Histogram(native_histogram(false))));
        let mixed = [gauge(), native];
        let (body, problems) = for_gateway(&mixed);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(body.content_type, protobuf::CONTENT_TYPE);
        assert_eq!(body.bytes, protobuf::to_vec(&mixed).0);
    }

    #[test]
    fn nothing_to_push_is_an_empty_body() {
        let (body, problems) = for_gateway(&[]);
        assert!(body.is_empty() && problems.is_empty());
        let empty = [Family::new("g", "h", Kind::Gauge)];
        assert!(for_gateway(&empty).0.is_empty());
    }
}
