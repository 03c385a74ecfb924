//! The Prometheus remote-write 1.0 body: the metric families as protobuf `WriteRequest`s,
//! snappy-compressed (block format), each of at most [`MAX_SAMPLES_PER_REQUEST`] samples and
//! [`MAX_REQUEST_BYTES`] bytes.
//!
//! The messages are declared here with `prost`'s derive (the field numbers of
//! `prometheus/prompb/types.proto` and `remote.proto`), so building needs no `protoc`. Only what
//! a client sends is declared: series of float samples; metadata, exemplars and native
//! histograms are left out (receivers take a request without them).

use prometheus::proto::{Metric, MetricFamily, MetricType};

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub(crate) timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: labels sorted by name, `__name__` among them.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub(crate) labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Label {
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    #[prost(string, tag = "2")]
    pub(crate) value: String,
}

/// `prometheus.Sample`: a value at a Unix time in milliseconds.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Sample {
    #[prost(double, tag = "1")]
    pub(crate) value: f64,
    #[prost(int64, tag = "2")]
    pub(crate) timestamp: i64,
}

/// Families with the extra labels each of their series gets (e.g. `pushtimer_record`).
pub(crate) type Labelled<'a> = (&'a [MetricFamily], &'a [(&'a str, &'a str)]);

/// One sample of a metric as the text format has it: name suffix, extra label, value.
type Line = (&'static str, Option<(&'static str, String)>, f64);

/// The most samples in one request: the default of Prometheus' own remote-write sender
/// (`queue_config.max_samples_per_send`), which every receiver is built to take.
pub(crate) const MAX_SAMPLES_PER_REQUEST: usize = 2_000;

/// The most bytes of uncompressed protobuf in one request: 1 MiB, a 32nd of
/// VictoriaMetrics' limit (it refuses more than 32 MiB unpacked, `-maxInsertRequestSize`);
/// Prometheus 2.42's receiver has no limit of its own (it took 300 MB here, holding it all in
/// memory). Reached only by series with long labels: 2,000 series of a typical job make about
/// 170 KiB (86 bytes each in the large-write test). It also bounds what a write holds in
/// memory at a time: one request.
pub(crate) const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The series of one write, stamped with its time, each labelled with its own labels and the
/// target's, and cut into requests ([`Batch::requests`]).
pub(crate) struct Batch<'a> {
    /// The labels every series gets (job, grouping labels); they win over a series' own label
    /// of the same name, as the Pushgateway's grouping labels do.
    target: &'a [(String, String)],
    timestamp_ms: i64,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(target: &'a [(String, String)], timestamp_ms: i64) -> Batch<'a> {
        Batch {
            target,
            timestamp_ms,
        }
    }

    /// Every sample of `groups` (each group's families with its `extra` labels on each series;
    /// the target's labels still win), as requests of at most [`MAX_SAMPLES_PER_REQUEST`]
    /// samples and [`MAX_REQUEST_BYTES`] bytes, each series whole in one of them.
    ///
    /// The requests are made one at a time, as they are taken, so a write holds one request
    /// in memory, not all of them. Smaller groups come first: a final write cut short by its
    /// deadline has then delivered the records of the run's end (a few series) before the
    /// bulk of the timings. A series too large for a request of its own is left out and
    /// counted ([`Requests::left_out`]).
    pub(crate) fn requests<'b>(
        &'b self,
        groups: &'b [Labelled<'b>],
    ) -> Requests<impl Iterator<Item = TimeSeries> + 'b> {
        let mut order: Vec<&Labelled<'b>> = groups.iter().collect();
        order.sort_by_key(|(families, _)| {
            families
                .iter()
                .map(|family| family.get_metric().len())
                .fold(0usize, usize::saturating_add)
        });
        let series = order.into_iter().flat_map(move |&(families, extra)| {
            families.iter().flat_map(move |family| {
                let (name, kind) = (family.name(), family.get_field_type());
                family.get_metric().iter().flat_map(move |metric| {
                    samples(kind, metric)
                        .into_iter()
                        .map(move |(suffix, label, value)| TimeSeries {
                            labels: self.series(metric, &format!("{name}{suffix}"), label, extra),
                            samples: vec![Sample {
                                value,
                                timestamp: self.timestamp_ms,
                            }],
                        })
                })
            })
        });
        Requests {
            series,
            next: None,
            left_out: LeftOut::default(),
        }
    }

    /// The labels of one series, sorted by name, empty values left out (an empty label is no
    /// label to Prometheus).
    fn series(
        &self,
        metric: &Metric,
        name: &str,
        label: Option<(&str, String)>,
        extra: &[(&str, &str)],
    ) -> Vec<Label> {
        let mut labels: Vec<Label> = Vec::with_capacity(metric.get_label().len() + 4);
        let mut set = |name: &str, value: &str| {
            match labels.iter_mut().find(|l| l.name == name) {
                Some(existing) => value.clone_into(&mut existing.value),
                None => labels.push(Label {
                    name: name.to_owned(),
                    value: value.to_owned(),
                }),
            };
        };
        set("__name__", name);
        for pair in metric.get_label() {
            set(pair.name(), pair.value());
        }
        if let Some((name, value)) = &label {
            set(name, value);
        }
        for (name, value) in extra {
            set(name, value);
        }
        for (name, value) in self.target {
            set(name, value);
        }
        labels.retain(|l| !l.value.is_empty());
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        labels
    }
}

/// The requests of one write, made as they are taken (see [`Batch::requests`]).
pub(crate) struct Requests<I> {
    series: I,
    /// The series that did not fit in the last request: the first of the next.
    next: Option<TimeSeries>,
    left_out: LeftOut,
}

/// The series a write left out, each too large for any request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct LeftOut {
    /// How many.
    pub(crate) series: usize,
    /// The metric name of the first (its `__name__`).
    pub(crate) first: Option<String>,
}

impl<I> Requests<I> {
    /// The series left out so far, each larger than [`MAX_REQUEST_BYTES`] alone.
    pub(crate) fn left_out(&self) -> &LeftOut {
        &self.left_out
    }
}

impl<I: Iterator<Item = TimeSeries>> Iterator for Requests<I> {
    type Item = WriteRequest;

    fn next(&mut self) -> Option<WriteRequest> {
        let mut request = WriteRequest::default();
        let (mut samples, mut bytes) = (0usize, 0usize);
        while let Some(series) = self.next.take().or_else(|| self.series.next()) {
            let size = field_len(&series);
            let count = series.samples.len();
            if size > MAX_REQUEST_BYTES || count > MAX_SAMPLES_PER_REQUEST {
                self.left_out.series = self.left_out.series.saturating_add(1);
                if self.left_out.first.is_none() {
                    self.left_out.first = series
                        .labels
                        .iter()
                        .find(|label| label.name == "__name__")
                        .map(|label| label.value.clone());
                }
                continue;
            }
            let fits = samples.saturating_add(count) <= MAX_SAMPLES_PER_REQUEST
                && bytes.saturating_add(size) <= MAX_REQUEST_BYTES;
            if !fits {
                self.next = Some(series);
                break;
            }
            samples = samples.saturating_add(count);
            bytes = bytes.saturating_add(size);
            request.timeseries.push(series);
        }
        (!request.timeseries.is_empty()).then_some(request)
    }
}

/// What `series` adds to the encoded length of a `WriteRequest`: its key, its length, itself.
fn field_len(series: &TimeSeries) -> usize {
    let len = prost::Message::encoded_len(series);
    // The key of field 1 with wire type 2 is one byte.
    1usize
        .saturating_add(prost::length_delimiter_len(len))
        .saturating_add(len)
}

/// The body of `request`: protobuf, snappy-compressed (block format).
pub(crate) fn encode(request: &WriteRequest) -> Vec<u8> {
    let protobuf = prost::Message::encode_to_vec(request);
    snap::raw::Encoder::new()
        .compress_vec(&protobuf)
        // Fails only for inputs beyond 2^32 bytes, which a request never is (at most
        // `MAX_REQUEST_BYTES`); an empty body would be refused by the receiver with a 400
        // that says so, rather than a panic here.
        .unwrap_or_default()
}

/// The samples of one metric as the text format has them: name suffix, extra label, value.
fn samples(kind: MetricType, metric: &Metric) -> Vec<Line> {
    match kind {
        MetricType::COUNTER => vec![("", None, metric.get_counter().get_value())],
        MetricType::GAUGE => vec![("", None, metric.get_gauge().get_value())],
        // The crate marks its untyped accessors deprecated, but a user's collector may still
        // produce untyped metrics, and the text encoder writes them.
        #[allow(deprecated)]
        MetricType::UNTYPED => vec![("", None, metric.get_untyped().get_value())],
        MetricType::SUMMARY => {
            let summary = metric.get_summary();
            let mut samples: Vec<_> = summary
                .get_quantile()
                .iter()
                .map(|q| ("", Some(("quantile", q.quantile().to_string())), q.value()))
                .collect();
            samples.push(("_sum", None, summary.sample_sum()));
            samples.push(("_count", None, summary.sample_count() as f64));
            samples
        }
        MetricType::HISTOGRAM => {
            let histogram = metric.get_histogram();
            let mut samples = Vec::with_capacity(histogram.get_bucket().len() + 3);
            let mut infinity_seen = false;
            for bucket in histogram.get_bucket() {
                let bound = bucket.upper_bound();
                infinity_seen |= bound == f64::INFINITY;
                samples.push((
                    "_bucket",
                    Some(("le", le(bound))),
                    bucket.cumulative_count() as f64,
                ));
            }
            if !infinity_seen {
                let count = histogram.get_sample_count() as f64;
                samples.push(("_bucket", Some(("le", le(f64::INFINITY))), count));
            }
            samples.push(("_sum", None, histogram.get_sample_sum()));
            samples.push(("_count", None, histogram.get_sample_count() as f64));
            samples
        }
    }
}

/// A bucket bound as the text format writes it (so both paths give the same `le` values).
fn le(bound: f64) -> String {
    if bound == f64::INFINITY {
        "+Inf".to_owned()
    } else {
        bound.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::proto::{Bucket, Gauge, Histogram, LabelPair, Quantile, Summary};

    fn family(name: &str, kind: MetricType, metric: Metric) -> MetricFamily {
        let mut family = MetricFamily::default();
        family.set_name(name.to_owned());
        family.set_field_type(kind);
        family.set_metric(vec![metric]);
        family
    }

    fn labelled(pairs: &[(&str, &str)]) -> Metric {
        let mut metric = Metric::default();
        metric.set_label(
            pairs
                .iter()
                .map(|(n, v)| {
                    let mut pair = LabelPair::default();
                    pair.set_name((*n).to_owned());
                    pair.set_value((*v).to_owned());
                    pair
                })
                .collect(),
        );
        metric
    }

    fn shown(request: &WriteRequest) -> Vec<String> {
        request
            .timeseries
            .iter()
            .map(|series| {
                let labels: Vec<String> = series
                    .labels
                    .iter()
                    .map(|l| format!("{}={}", l.name, l.value))
                    .collect();
                let sample = &series.samples[0];
                format!(
                    "{} {} @{}",
                    labels.join(","),
                    sample.value,
                    sample.timestamp
                )
            })
            .collect()
    }

    /// Every request `requests` makes, failing (rather than looping forever) if it makes more
    /// than any test here expects.
    fn all(requests: impl Iterator<Item = WriteRequest>) -> Vec<WriteRequest> {
        let taken: Vec<WriteRequest> = requests.take(101).collect();
        assert!(taken.len() <= 100, "endless requests");
        taken
    }

    #[test]
    fn summaries_histograms_and_gauges_become_the_series_the_text_format_has() {
        let mut summary = Summary::default();
        summary.set_sample_count(3);
        summary.set_sample_sum(1.5);
        let mut quantile = Quantile::default();
        quantile.set_quantile(0.5);
        quantile.set_value(0.25);
        summary.set_quantile(vec![quantile]);
        let mut metric = labelled(&[("outcome", "ok"), ("job", "body"), ("team", "")]);
        metric.set_summary(summary);
        let summary = family("load_seconds", MetricType::SUMMARY, metric);

        let mut histogram = Histogram::default();
        histogram.set_sample_count(2);
        histogram.set_sample_sum(0.3);
        let mut bucket = Bucket::default();
        bucket.set_upper_bound(0.1);
        bucket.set_cumulative_count(1);
        histogram.set_bucket(vec![bucket]);
        let mut metric = labelled(&[("outcome", "ok")]);
        metric.set_histogram(histogram);
        let histogram = family("step_seconds", MetricType::HISTOGRAM, metric);

        let mut gauge = Gauge::default();
        gauge.set_value(7.0);
        let mut metric = Metric::default();
        metric.set_gauge(gauge);
        let gauge = family("pushtimer_job_exit_code", MetricType::GAUGE, metric);

        let target = vec![
            ("job".to_owned(), "etl".to_owned()),
            ("instance".to_owned(), "w1".to_owned()),
        ];
        let batch = Batch::new(&target, 1_700_000_000_123);
        let timings = [summary, histogram];
        let records = [gauge];
        let groups: [Labelled<'_>; 2] = [
            (&timings, &[]),
            (&records, &[("pushtimer_record", "last_completion")]),
        ];
        let requests = all(batch.requests(&groups));
        assert_eq!(requests.len(), 1);
        assert_eq!(
            shown(&requests[0]),
            [
                // The smaller group first.
                "__name__=pushtimer_job_exit_code,instance=w1,job=etl,pushtimer_record=last_completion 7 @1700000000123",
                "__name__=load_seconds,instance=w1,job=etl,outcome=ok,quantile=0.5 0.25 @1700000000123",
                "__name__=load_seconds_sum,instance=w1,job=etl,outcome=ok 1.5 @1700000000123",
                "__name__=load_seconds_count,instance=w1,job=etl,outcome=ok 3 @1700000000123",
                "__name__=step_seconds_bucket,instance=w1,job=etl,le=0.1,outcome=ok 1 @1700000000123",
                "__name__=step_seconds_bucket,instance=w1,job=etl,le=+Inf,outcome=ok 2 @1700000000123",
                "__name__=step_seconds_sum,instance=w1,job=etl,outcome=ok 0.3 @1700000000123",
                "__name__=step_seconds_count,instance=w1,job=etl,outcome=ok 2 @1700000000123",
            ]
        );
    }

    /// A family of `n` gauges told apart by `i`, each with a label `pad` of `pad` bytes.
    fn gauges(name: &str, n: usize, pad: usize) -> MetricFamily {
        let padding = "x".repeat(pad);
        let metrics = (0..n)
            .map(|i| {
                let mut metric = labelled(&[("i", &i.to_string()), ("pad", &padding)]);
                let mut gauge = Gauge::default();
                gauge.set_value(i as f64);
                metric.set_gauge(gauge);
                metric
            })
            .collect();
        let mut family = MetricFamily::default();
        family.set_name(name.to_owned());
        family.set_field_type(MetricType::GAUGE);
        family.set_metric(metrics);
        family
    }

    /// Every request within both bounds, every series in exactly one request, in order.
    fn check_bounds(requests: &[WriteRequest], expected: &[String]) {
        for request in requests {
            assert!(!request.timeseries.is_empty());
            let samples: usize = request.timeseries.iter().map(|s| s.samples.len()).sum();
            assert!(samples <= MAX_SAMPLES_PER_REQUEST, "{samples} samples");
            let bytes = prost::Message::encoded_len(request);
            assert!(bytes <= MAX_REQUEST_BYTES, "{bytes} bytes");
            let counted: usize = request.timeseries.iter().map(field_len).sum();
            assert_eq!(counted, bytes, "the bound counts what is encoded");
        }
        let sent: Vec<String> = requests.iter().flat_map(shown).collect();
        assert_eq!(sent, expected);
    }

    #[test]
    fn a_large_write_is_cut_into_requests_of_at_most_2000_samples() {
        let target = vec![("job".to_owned(), "j".to_owned())];
        let batch = Batch::new(&target, 5);
        // 4,600 series: 2 × 2,000 and 600, the run's record first.
        let timings = [gauges("a", 3_000, 0), gauges("b", 1_599, 0)];
        let records = [gauges("r", 1, 0)];
        let groups: [Labelled<'_>; 2] = [(&timings, &[]), (&records, &[])];
        let expected: Vec<String> = [("r", 1), ("a", 3_000), ("b", 1_599)]
            .iter()
            .flat_map(|(name, n)| {
                (0..*n).map(move |i| format!("__name__={name},i={i},job=j {i} @5"))
            })
            .collect();
        assert_eq!(expected.len(), 4_600);
        let requests = all(batch.requests(&groups));
        let sizes: Vec<usize> = requests.iter().map(|r| r.timeseries.len()).collect();
        assert_eq!(sizes, [2_000, 2_000, 600]);
        check_bounds(&requests, &expected);
    }

    #[test]
    fn a_histograms_series_may_go_to_separate_requests_each_whole() {
        // 100 histograms of 20 bounds: 23 series each (with +Inf, _sum, _count), 2,300 in all.
        let metrics = (0..100)
            .map(|i| {
                let mut histogram = Histogram::default();
                histogram.set_sample_count(3);
                histogram.set_sample_sum(1.0);
                let buckets = (1..=20)
                    .map(|b| {
                        let mut bucket = Bucket::default();
                        bucket.set_upper_bound(f64::from(b));
                        bucket.set_cumulative_count(1);
                        bucket
                    })
                    .collect();
                histogram.set_bucket(buckets);
                let mut metric = labelled(&[("i", &i.to_string())]);
                metric.set_histogram(histogram);
                metric
            })
            .collect();
        let mut family = MetricFamily::default();
        family.set_name("h_seconds".to_owned());
        family.set_field_type(MetricType::HISTOGRAM);
        family.set_metric(metrics);
        let target = vec![("job".to_owned(), "j".to_owned())];
        let families = [family];
        let groups: [Labelled<'_>; 1] = [(&families, &[])];
        let requests = all(Batch::new(&target, 5).requests(&groups));
        let sizes: Vec<usize> = requests.iter().map(|r| r.timeseries.len()).collect();
        assert_eq!(sizes, [2_000, 300]);
        let all: Vec<String> = requests.iter().flat_map(shown).collect();
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 2_300, "every series once");
        assert!(
            requests
                .iter()
                .all(|r| r.timeseries.iter().all(|s| s.samples.len() == 1))
        );
    }

    #[test]
    fn long_labels_cut_requests_by_their_size() {
        // 100 series of about 30 KiB: at most 34 of them in 1 MiB.
        let target = vec![("job".to_owned(), "j".to_owned())];
        let families = [gauges("long", 100, 30 * 1024)];
        let groups: [Labelled<'_>; 1] = [(&families, &[])];
        let batch = Batch::new(&target, 5);
        let pad = "x".repeat(30 * 1024);
        let expected: Vec<String> = (0..100)
            .map(|i| format!("__name__=long,i={i},job=j,pad={pad} {i} @5"))
            .collect();
        let requests = all(batch.requests(&groups));
        let sizes: Vec<usize> = requests.iter().map(|r| r.timeseries.len()).collect();
        assert_eq!(sizes, [34, 34, 32]);
        check_bounds(&requests, &expected);
    }

    #[test]
    fn a_series_too_large_for_any_request_is_left_out_and_counted() {
        let target = vec![("job".to_owned(), "j".to_owned())];
        let families = [
            gauges("fine", 3, 0),
            gauges("huge", 2, MAX_REQUEST_BYTES),
            gauges("also_fine", 1, 0),
        ];
        let groups: [Labelled<'_>; 1] = [(&families, &[])];
        let batch = Batch::new(&target, 5);
        let mut requests = batch.requests(&groups);
        let sent = all(requests.by_ref());
        assert_eq!(sent.len(), 1);
        let names: Vec<&str> = sent[0]
            .timeseries
            .iter()
            .map(|s| s.labels[0].value.as_str())
            .collect();
        assert_eq!(names, ["fine", "fine", "fine", "also_fine"]);
        assert_eq!(
            requests.left_out(),
            &LeftOut {
                series: 2,
                first: Some("huge".to_owned())
            }
        );
    }

    #[test]
    fn nothing_to_write_makes_no_request() {
        let target = vec![("job".to_owned(), "j".to_owned())];
        let empty: [MetricFamily; 0] = [];
        let groups: [Labelled<'_>; 1] = [(&empty, &[])];
        assert_eq!(Batch::new(&target, 5).requests(&groups).next(), None);
        assert_eq!(Batch::new(&target, 5).requests(&[]).next(), None);
    }

    #[test]
    fn the_body_is_snappy_compressed_protobuf_that_decodes_back() {
        let target = vec![("job".to_owned(), "j".to_owned())];
        let families = [gauges("g", 2_500, 10)];
        let groups: [Labelled<'_>; 1] = [(&families, &[])];
        let requests = all(Batch::new(&target, 5).requests(&groups));
        assert_eq!(requests.len(), 2);
        for request in requests {
            let body = encode(&request);
            let protobuf = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
            let decoded: WriteRequest = prost::Message::decode(&protobuf[..]).unwrap();
            assert_eq!(decoded, request);
        }
    }

    /// A histogram whose buckets end with +Inf (as a user's collector may make) gets no second
    /// +Inf bucket.
    #[test]
    fn an_explicit_infinite_bucket_is_not_doubled() {
        let mut histogram = Histogram::default();
        histogram.set_sample_count(2);
        histogram.set_sample_sum(0.3);
        let buckets = [(0.1, 1), (f64::INFINITY, 2)]
            .into_iter()
            .map(|(bound, count)| {
                let mut bucket = Bucket::default();
                bucket.set_upper_bound(bound);
                bucket.set_cumulative_count(count);
                bucket
            })
            .collect();
        histogram.set_bucket(buckets);
        let mut metric = Metric::default();
        metric.set_histogram(histogram);
        let families = [family("h_seconds", MetricType::HISTOGRAM, metric)];
        let groups: [Labelled<'_>; 1] = [(&families, &[])];
        let requests = all(Batch::new(&[], 5).requests(&groups));
        assert_eq!(requests.len(), 1);
        assert_eq!(
            shown(&requests[0]),
            [
                "__name__=h_seconds_bucket,le=0.1 1 @5",
                "__name__=h_seconds_bucket,le=+Inf 2 @5",
                "__name__=h_seconds_sum 0.3 @5",
                "__name__=h_seconds_count 2 @5",
            ]
        );
    }

    /// The requests made of `series` as they are, and what was left out.
    fn requests_of(series: Vec<TimeSeries>) -> (Vec<WriteRequest>, LeftOut) {
        let mut requests = Requests {
            series: series.into_iter(),
            next: None,
            left_out: LeftOut::default(),
        };
        let sent = all(requests.by_ref());
        (sent, requests.left_out().clone())
    }

    /// A series named `name` with `samples` samples and a label `pad` of `pad` bytes.
    fn time_series(name: &str, samples: usize, pad: usize) -> TimeSeries {
        TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".to_owned(),
                    value: name.to_owned(),
                },
                Label {
                    name: "pad".to_owned(),
                    value: "x".repeat(pad),
                },
            ],
            samples: vec![
                Sample {
                    value: 1.0,
                    timestamp: 5,
                };
                samples
            ],
        }
    }

    /// Each request's series, by name.
    fn names(requests: &[WriteRequest]) -> Vec<Vec<&str>> {
        requests
            .iter()
            .map(|r| {
                r.timeseries
                    .iter()
                    .map(|s| s.labels[0].value.as_str())
                    .collect()
            })
            .collect()
    }

    /// A series of exactly [`MAX_REQUEST_BYTES`] is sent, in a request of its own; one byte
    /// more and it is left out.
    #[test]
    fn a_series_of_exactly_the_byte_limit_is_sent_alone() {
        // Every length prefix is 3 bytes from 16 KiB to 2 MiB: one more byte of padding is
        // one more byte of series.
        let half = MAX_REQUEST_BYTES / 2;
        let pad = half + MAX_REQUEST_BYTES - field_len(&time_series("fits", 1, half));
        let exact = time_series("fits", 1, pad);
        assert_eq!(field_len(&exact), MAX_REQUEST_BYTES);
        let over = time_series("over", 1, pad + 1);
        assert_eq!(field_len(&over), MAX_REQUEST_BYTES + 1);
        let (sent, left_out) = requests_of(vec![
            time_series("before", 1, 0),
            exact.clone(),
            over,
            time_series("after", 1, 0),
        ]);
        assert_eq!(names(&sent), [vec!["before"], vec!["fits"], vec!["after"]]);
        assert_eq!(prost::Message::encoded_len(&sent[1]), MAX_REQUEST_BYTES);
        assert_eq!(sent[1].timeseries[0], exact);
        assert_eq!(
            left_out,
            LeftOut {
                series: 1,
                first: Some("over".to_owned())
            }
        );
    }

    /// A series of exactly [`MAX_SAMPLES_PER_REQUEST`] samples is sent, in a request of its
    /// own; one sample more and it is left out. (A batch makes series of one sample; the
    /// requests take any.)
    #[test]
    fn a_series_of_exactly_the_sample_limit_is_sent_alone() {
        let (sent, left_out) = requests_of(vec![
            time_series("exact", MAX_SAMPLES_PER_REQUEST, 0),
            time_series("over", MAX_SAMPLES_PER_REQUEST + 1, 0),
            time_series("after", 1, 0),
        ]);
        assert_eq!(names(&sent), [vec!["exact"], vec!["after"]]);
        assert_eq!(sent[0].timeseries[0].samples.len(), MAX_SAMPLES_PER_REQUEST);
        assert_eq!(
            left_out,
            LeftOut {
                series: 1,
                first: Some("over".to_owned())
            }
        );
    }
}
