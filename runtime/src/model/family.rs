//! The metric families themselves: plain data, built by whoever has something to push and
//! read by the encoders.

/// Every series of one metric name: what one `# HELP`/`# TYPE` block of the text format holds
/// and one `io.prometheus.client.MetricFamily` message carries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Family {
    /// The metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*` (an encoder leaves out a family whose name
    /// is not).
    pub(crate) name: String,
    /// The HELP text, unescaped; empty for none (the text format then has no `# HELP` line).
    pub(crate) help: String,
    /// The `# TYPE`. Each metric's [`Value`] must be of this kind; an encoder leaves out a
    /// metric whose value is not.
    pub(crate) kind: Kind,
    /// The series, in the order they are written.
    pub(crate) metrics: Vec<Metric>,
}

impl Family {
    /// A family without metrics yet.
    pub(crate) fn new(name: impl Into<String>, help: impl Into<String>, kind: Kind) -> Family {
        Family {
            name: name.into(),
            help: help.into(),
            kind,
            metrics: Vec::new(),
        }
    }

    /// The family with `metric` added at the end.
    pub(crate) fn with(mut self, metric: Metric) -> Family {
        self.metrics.push(metric);
        self
    }

    /// The names this family's samples go by in the text format (and in remote write): the
    /// name itself, and for a summary or histogram the names with their suffixes. Two
    /// families sharing one of these collide (the gateway refuses the push).
    pub(crate) fn sample_names(&self) -> Vec<String> {
        let name = &self.name;
        let mut names = vec![name.clone()];
        match self.kind {
            Kind::Counter | Kind::Gauge | Kind::Untyped => {}
            Kind::Summary => names.extend([format!("{name}_sum"), format!("{name}_count")]),
            Kind::Histogram => names.extend([
                format!("{name}_bucket"),
                format!("{name}_sum"),
                format!("{name}_count"),
            ]),
        }
        names
    }

    /// Whether a metric of this family is a native histogram, which only the protobuf format
    /// carries whole (the text format shows its count and sum).
    pub(crate) fn has_native_histogram(&self) -> bool {
        self.metrics.iter().any(|metric| match &metric.value {
            Value::Histogram(histogram) => histogram.native.is_some(),
            _ => false,
        })
    }
}

/// The type of a family, as the `# TYPE` line and the protobuf `MetricType` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Untyped,
    Summary,
    /// Classic, native, or both in one series.
    Histogram,
}

impl Kind {
    /// As the `# TYPE` line writes it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Untyped => "untyped",
            Kind::Summary => "summary",
            Kind::Histogram => "histogram",
        }
    }
}

/// A series' own labels, as ordered name/value pairs: written in this order, none added or
/// removed (the grouping labels of a destination are its business). Names must match
/// `[a-zA-Z_][a-zA-Z0-9_]*` (an encoder leaves out a family with one that does not); values
/// are any text.
pub(crate) type Labels = Vec<(String, String)>;

/// One series: its labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metric {
    pub(crate) labels: Labels,
    pub(crate) value: Value,
    /// Milliseconds since the Unix epoch, written after the value; `None` for none (what
    /// pushtimer always sends: the Pushgateway and the textfile collector refuse timestamps).
    /// Kept so a user's collector's metrics are encoded as they were gathered.
    pub(crate) timestamp_ms: Option<i64>,
}

impl Metric {
    /// A series with these labels (copied) and no timestamp.
    pub(crate) fn new(labels: &[(&str, &str)], value: impl Into<Value>) -> Metric {
        Metric {
            labels: labels
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            value: value.into(),
            timestamp_ms: None,
        }
    }
}

/// What one series holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Counter(f64),
    Gauge(f64),
    Untyped(f64),
    Summary(Summary),
    Histogram(Histogram),
}

impl Value {
    /// The family kind this value belongs in.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Value::Counter(_) => Kind::Counter,
            Value::Gauge(_) => Kind::Gauge,
            Value::Untyped(_) => Kind::Untyped,
            Value::Summary(_) => Kind::Summary,
            Value::Histogram(_) => Kind::Histogram,
        }
    }
}

impl From<Summary> for Value {
    fn from(summary: Summary) -> Value {
        Value::Summary(summary)
    }
}

impl From<Histogram> for Value {
    fn from(histogram: Histogram) -> Value {
        Value::Histogram(histogram)
    }
}

/// A summary: how many observations, their sum, and quantiles over them.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Summary {
    pub(crate) count: u64,
    pub(crate) sum: f64,
    /// Written in this order, as `{quantile="<quantile>"}` samples of the bare name.
    pub(crate) quantiles: Vec<Quantile>,
}

/// One quantile of a summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quantile {
    /// In [0, 1].
    pub(crate) quantile: f64,
    pub(crate) value: f64,
}

/// A histogram: classic buckets, a native histogram, or both in one series (as one
/// `io.prometheus.client.Histogram` message carries both; a receiver takes either or both).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Histogram {
    /// How many observations: the `+Inf` bucket of the classic buckets and `_count`.
    pub(crate) count: u64,
    pub(crate) sum: f64,
    /// The classic buckets with finite upper bounds, by increasing bound, each with the
    /// cumulative count of observations at or below it. The `+Inf` bucket is implicit: it is
    /// always [`count`](Self::count), as the format requires, and written last by the text
    /// encoder (the protobuf format needs none). A bucket given here with a `+Inf` bound is
    /// ignored by the encoders, so a series never has two.
    pub(crate) buckets: Vec<Bucket>,
    /// The native (exponential, sparse) buckets, if this series has them.
    pub(crate) native: Option<Native>,
}

/// One classic bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    /// Inclusive.
    pub(crate) upper_bound: f64,
    pub(crate) cumulative_count: u64,
}

/// The lowest schema of a native histogram (each bucket 2^16 times as wide as the last).
pub(crate) const NATIVE_SCHEMA_MIN: i32 = -4;
/// The highest schema (256 buckets per power of two, each about 0.27 % wide).
pub(crate) const NATIVE_SCHEMA_MAX: i32 = 8;
/// client_golang's default zero threshold, 2^-128: observations of at most this magnitude
/// count in the zero bucket.
pub(crate) const DEFAULT_ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// The native part of a histogram, as client_golang's `histogram.go` holds it: a schema, a
/// zero bucket, and sparse exponential buckets on each side of it.
///
/// Bucket `i` of schema `s` covers `(2^((i-1)/2^s), 2^(i/2^s)]` on the positive side (and the
/// mirror image on the negative side), for `i` of any sign: bucket 0 is `(0.5, 1]` at schema 0.
/// Counts are integers and absolute per bucket (not cumulative, not the deltas the wire
/// carries: the protobuf encoder makes those). Float histograms (`*_count_float`,
/// `positive_count`) come from aggregating, never from a client; the model has none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Native {
    /// [`NATIVE_SCHEMA_MIN`]..=[`NATIVE_SCHEMA_MAX`].
    pub(crate) schema: i32,
    /// Observations with an absolute value at or below this count in the zero bucket; at least
    /// 0 and finite.
    pub(crate) zero_threshold: f64,
    pub(crate) zero_count: u64,
    pub(crate) positive: NativeBuckets,
    pub(crate) negative: NativeBuckets,
}

/// The populated buckets on one side of a native histogram, as spans of consecutive bucket
/// indexes and one count per bucket of the spans, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct NativeBuckets {
    pub(crate) spans: Vec<Span>,
    /// As many as the spans' lengths add up to.
    pub(crate) counts: Vec<u64>,
}

/// Consecutive buckets of a native histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// For the first span, the index of its first bucket; for each next one, how many buckets
    /// lie between the end of the previous span and its start (at least 0).
    pub(crate) offset: i32,
    pub(crate) length: u32,
}

/// Gaps of at most this many empty buckets stay inside a span, as zero counts (client_golang's
/// `makeBuckets` rule: cheaper on the wire than a new span).
const GAP_IN_SPAN: i64 = 2;

impl NativeBuckets {
    /// The buckets with these `(index, count)` pairs, in any order (counts of one index add
    /// up), as spans: gaps of one or two empty buckets are kept inside a span as zeros, as
    /// client_golang does. `None` when an offset between two spans does not fit an `i32`
    /// (indexes more than 2^31 apart, which no schema produces for finite values).
    pub(crate) fn from_indexed(pairs: impl IntoIterator<Item = (i32, u64)>) -> Option<Self> {
        let mut pairs: Vec<(i32, u64)> = pairs.into_iter().collect();
        pairs.sort_by_key(|&(index, _)| index);
        let mut buckets = NativeBuckets::default();
        // The index just past the last bucket written.
        let mut end: Option<i64> = None;
        for (index, count) in pairs {
            let index = i64::from(index);
            match end {
                Some(next) if index < next => {
                    // The same index again (sorted, so never lower): its counts add up.
                    if let Some(last) = buckets.counts.last_mut() {
                        *last = last.saturating_add(count);
                    }
                    continue;
                }
                Some(next) if index - next <= GAP_IN_SPAN => {
                    let gap = index - next;
                    let span = buckets.spans.last_mut()?;
                    span.length = span.length.checked_add(u32::try_from(gap + 1).ok()?)?;
                    buckets.counts.extend((0..gap).map(|_| 0));
                }
                _ => {
                    let offset = match end {
                        None => index,
                        Some(next) => index - next,
                    };
                    buckets.spans.push(Span {
                        offset: i32::try_from(offset).ok()?,
                        length: 1,
                    });
                }
            }
            buckets.counts.push(count);
            end = Some(index + 1);
        }
        Some(buckets)
    }

    /// The counts as the wire carries them: the first as it is, each next one as the
    /// difference to the one before (two's complement, so any `u64` counts survive).
    pub(crate) fn deltas(&self) -> Vec<i64> {
        let mut previous = 0u64;
        self.counts
            .iter()
            .map(|&count| {
                let delta = count.wrapping_sub(previous) as i64;
                previous = count;
                delta
            })
            .collect()
    }
}
