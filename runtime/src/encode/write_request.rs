//! The Prometheus remote-write 1.0 body: the metric families as protobuf `WriteRequest`s,
//! snappy-compressed (block format), each of at most [`MAX_SAMPLES_PER_REQUEST`] samples and
//! [`MAX_REQUEST_BYTES`] bytes.
//!
//! The series are the text format's: the model's families through [`samples`] (the one place
//! that decides which samples a metric has), with the `le` and `quantile` values written as the
//! text encoder writes them, and with what the text encoder leaves out left out
//! ([`check::usable`]), so a series has the same name and labels in every destination.
//!
//! The messages are declared here with `prost`'s derive (the field numbers of
//! `prometheus/prompb/types.proto` and `remote.proto`), so building needs no `protoc`. Only what
//! a client sends is declared: series of float samples, and native histograms in the
//! `histograms` field (integer counts, deltas per bucket, as client_golang's are); metadata and
//! exemplars are left out (receivers take a request without them). A native histogram is sent
//! both ways: as the series of its name with one histogram sample, and as the float series the
//! text format shows of it (its classic buckets, `_sum`, `_count`), so that a receiver that
//! ignores the `histograms` field (VictoriaMetrics 1.79) still has those.

use crate::encode::text::write_float;
use crate::model::check::{self, Problem};
use crate::model::family::{Family, Metric, NativeBuckets, Value};
use crate::model::samples::{Sample as Line, samples};

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
    /// Native histogram samples (the series then has no float samples).
    #[prost(message, repeated, tag = "4")]
    pub(crate) histograms: Vec<Histogram>,
}

/// `prometheus.Histogram`, integer counts only: a native histogram's sample.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Histogram {
    /// `count_int`, of the `count` oneof.
    #[prost(uint64, tag = "1")]
    pub(crate) count_int: u64,
    #[prost(double, tag = "3")]
    pub(crate) sum: f64,
    #[prost(sint32, tag = "4")]
    pub(crate) schema: i32,
    #[prost(double, tag = "5")]
    pub(crate) zero_threshold: f64,
    /// `zero_count_int`, of the `zero_count` oneof.
    #[prost(uint64, tag = "6")]
    pub(crate) zero_count_int: u64,
    #[prost(message, repeated, tag = "8")]
    pub(crate) negative_spans: Vec<BucketSpan>,
    #[prost(sint64, repeated, tag = "9")]
    pub(crate) negative_deltas: Vec<i64>,
    #[prost(message, repeated, tag = "11")]
    pub(crate) positive_spans: Vec<BucketSpan>,
    #[prost(sint64, repeated, tag = "12")]
    pub(crate) positive_deltas: Vec<i64>,
    /// `ResetHint`: 0, unknown (the receiver tells a reset from the counts, as for a counter).
    #[prost(int32, tag = "14")]
    pub(crate) reset_hint: i32,
    #[prost(int64, tag = "15")]
    pub(crate) timestamp: i64,
}

/// `prometheus.BucketSpan`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BucketSpan {
    #[prost(sint32, tag = "1")]
    pub(crate) offset: i32,
    #[prost(uint32, tag = "2")]
    pub(crate) length: u32,
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
pub(crate) type Labelled<'a> = (&'a [Family], &'a [(&'a str, &'a str)]);

/// The families of one group that have something to write, each with the metrics the
/// encoders write, and the group's extra labels.
type Usable<'a> = (Vec<(&'a Family, Vec<&'a Metric>)>, &'a [(&'a str, &'a str)]);

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
    /// Whether native histograms are written (as histogram samples) at all.
    native: bool,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(target: &'a [(String, String)], timestamp_ms: i64) -> Batch<'a> {
        Batch {
            target,
            timestamp_ms,
            native: true,
        }
    }

    /// This batch without any native histogram sample: only the float series of every
    /// metric, for a receiver that refuses them.
    pub(crate) fn without_native(mut self) -> Batch<'a> {
        self.native = false;
        self
    }

    /// Every sample of `groups` (each group's families with its `extra` labels on each series;
    /// the target's labels still win), as requests of at most [`MAX_SAMPLES_PER_REQUEST`]
    /// samples and [`MAX_REQUEST_BYTES`] bytes, each series whole in one of them.
    ///
    /// The requests are made one at a time, as they are taken, so a write holds one request
    /// in memory, not all of them. Smaller groups come first: a final write cut short by its
    /// deadline has then delivered the records of the run's end (a few series) before the
    /// bulk of the timings. A series too large for a request of its own is left out and
    /// counted ([`Requests::left_out`]); what the encoders leave out is left out here too, and
    /// said so ([`Requests::take_problems`]).
    pub(crate) fn requests<'b>(
        &'b self,
        groups: &'b [Labelled<'b>],
    ) -> Requests<impl Iterator<Item = TimeSeries> + 'b> {
        let mut problems = Vec::new();
        let mut order: Vec<(usize, Usable<'b>)> = Vec::with_capacity(groups.len());
        for &(families, extra) in groups {
            let mut usable = Vec::with_capacity(families.len());
            let mut metrics_in_group = 0usize;
            for family in families {
                let (metrics, problem) = check::usable(family);
                problems.extend(problem);
                if !metrics.is_empty() {
                    metrics_in_group = metrics_in_group.saturating_add(metrics.len());
                    usable.push((family, metrics));
                }
            }
            order.push((metrics_in_group, (usable, extra)));
        }
        // Stable: groups of one size keep their order.
        order.sort_by_key(|(size, _)| *size);
        let series = order.into_iter().flat_map(move |(_, (usable, extra))| {
            usable.into_iter().flat_map(move |(family, metrics)| {
                metrics.into_iter().flat_map(move |metric| {
                    let native = self.native_series(family, metric, extra);
                    native
                        .into_iter()
                        .chain(samples(metric).into_iter().map(move |line| {
                            TimeSeries {
                                labels: self.series(family, metric, &line, extra),
                                // The write's own time, not a timestamp a user's collector set:
                                // every series of a write is one point in time, later than the
                                // last write's.
                                samples: vec![Sample {
                                    value: line.value,
                                    timestamp: self.timestamp_ms,
                                }],
                                histograms: Vec::new(),
                            }
                        }))
                })
            })
        });
        Requests {
            series,
            next: None,
            left_out: LeftOut::default(),
            problems,
        }
    }

    /// The native histogram of `metric`, as the series of its family's name with one
    /// histogram sample; `None` when it has none.
    fn native_series(
        &self,
        family: &Family,
        metric: &Metric,
        extra: &[(&str, &str)],
    ) -> Option<TimeSeries> {
        let Value::Histogram(histogram) = &metric.value else {
            return None;
        };
        if !self.native {
            return None;
        }
        let native = histogram.native.as_ref()?;
        let spans = |buckets: &NativeBuckets| {
            buckets
                .spans
                .iter()
                .map(|span| BucketSpan {
                    offset: span.offset,
                    length: span.length,
                })
                .collect()
        };
        let name = Line {
            suffix: "",
            label: None,
            value: 0.0,
        };
        Some(TimeSeries {
            labels: self.series(family, metric, &name, extra),
            samples: Vec::new(),
            histograms: vec![Histogram {
                count_int: histogram.count,
                sum: histogram.sum,
                schema: native.schema,
                zero_threshold: native.zero_threshold,
                zero_count_int: native.zero_count,
                negative_spans: spans(&native.negative),
                negative_deltas: native.negative.deltas(),
                positive_spans: spans(&native.positive),
                positive_deltas: native.positive.deltas(),
                reset_hint: 0,
                timestamp: self.timestamp_ms,
            }],
        })
    }

    /// The labels of one series, sorted by name, empty values left out (an empty label is no
    /// label to Prometheus).
    fn series(
        &self,
        family: &Family,
        metric: &Metric,
        line: &Line,
        extra: &[(&str, &str)],
    ) -> Vec<Label> {
        let mut labels: Vec<Label> = Vec::with_capacity(metric.labels.len().saturating_add(4));
        let mut name = String::with_capacity(family.name.len().saturating_add(line.suffix.len()));
        name.push_str(&family.name);
        name.push_str(line.suffix);
        labels.push(Label {
            name: "__name__".to_owned(),
            value: name,
        });
        let mut set = |name: &str, value: &str| {
            match labels.iter_mut().find(|l| l.name == name) {
                Some(existing) => value.clone_into(&mut existing.value),
                None => labels.push(Label {
                    name: name.to_owned(),
                    value: value.to_owned(),
                }),
            };
        };
        for (name, value) in &metric.labels {
            set(name, value);
        }
        if let Some((name, number)) = line.label {
            // As the text encoder writes it (`+Inf` included), so both have the same series.
            let mut value = String::new();
            write_float(&mut value, number);
            set(name, &value);
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
    /// What the encoders leave out, found before the first request is made.
    problems: Vec<Problem>,
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

    /// What the encoders leave out of the families written (each family with a problem once,
    /// as every text exposition of them says), taken: for the caller to report.
    pub(crate) fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }
}

impl<I: Iterator<Item = TimeSeries>> Iterator for Requests<I> {
    type Item = WriteRequest;

    fn next(&mut self) -> Option<WriteRequest> {
        let mut request = WriteRequest::default();
        let (mut samples, mut bytes) = (0usize, 0usize);
        while let Some(series) = self.next.take().or_else(|| self.series.next()) {
            let size = field_len(&series);
            let count = series.samples.len().saturating_add(series.histograms.len());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::tests::fixtures::{histogram, native_histogram};
    use crate::encode::text;
    use crate::model::family::{Kind, Quantile, Summary, Value};

    fn family(name: &str, metric: Metric) -> Family {
        Family::new(name, "", metric.value.kind()).with(metric)
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

    /// A native histogram is one series of its name with one histogram sample (the counts as
    /// deltas per bucket, the spans as they are, integer counts), and also the float series the
    /// text format has of it.
    #[test]
    fn a_native_histogram_is_its_histogram_sample_and_its_text_series() {
        let metric = Metric::new(
            &[("stage", "load")],
            Value::Histogram(native_histogram(true)),
        );
        let timings = [family("load_seconds", metric)];
        let target = vec![("job".to_owned(), "etl".to_owned())];
        let groups: [Labelled<'_>; 1] = [(&timings, &[])];
        let requests = all(Batch::new(&target, 77).requests(&groups));
        assert_eq!(requests.len(), 1);
        let series = &requests[0].timeseries;
        let names: Vec<&str> = series.iter().map(|s| s.labels[0].value.as_str()).collect();
        assert_eq!(
            names,
            [
                "load_seconds",
                "load_seconds_bucket",
                "load_seconds_bucket",
                "load_seconds_bucket",
                "load_seconds_sum",
                "load_seconds_count"
            ]
        );
        let native = &series[0];
        assert!(native.samples.is_empty());
        let labels: Vec<String> = native
            .labels
            .iter()
            .map(|l| format!("{}={}", l.name, l.value))
            .collect();
        assert_eq!(labels, ["__name__=load_seconds", "job=etl", "stage=load"]);
        assert_eq!(
            native.histograms,
            [Histogram {
                count_int: 9,
                sum: 4.25,
                schema: 3,
                zero_threshold: 2f64.powi(-128),
                zero_count_int: 1,
                negative_spans: vec![BucketSpan {
                    offset: 0,
                    length: 1
                }],
                negative_deltas: vec![2],
                positive_spans: vec![
                    BucketSpan {
                        offset: -1,
                        length: 2
                    },
                    BucketSpan {
                        offset: 3,
                        length: 1
                    }
                ],
                positive_deltas: vec![2, 1, -2],
                reset_hint: 0,
                timestamp: 77,
            }]
        );
        assert!(
            series[1..]
                .iter()
                .all(|s| s.histograms.is_empty() && s.samples.len() == 1)
        );
        // It decodes back as prost wrote it: field numbers and wire types agree.
        let body = encode(&requests[0]);
        let protobuf = snap::raw::Decoder::new()
            .decompress_vec(&body)
            .expect("snappy");
        let decoded: WriteRequest = prost::Message::decode(&protobuf[..]).expect("protobuf");
        assert_eq!(decoded, requests[0]);
    }

    #[test]
    fn summaries_histograms_and_gauges_become_the_series_the_text_format_has() {
        let summary = Summary {
            count: 3,
            sum: 1.5,
            quantiles: vec![Quantile {
                quantile: 0.5,
                value: 0.25,
            }],
        };
        let summary = family(
            "load_seconds",
            Metric::new(&[("outcome", "ok"), ("job", "body"), ("team", "")], summary),
        );
        let histogram = family(
            "step_seconds",
            Metric::new(&[("outcome", "ok")], histogram(2, 0.3, &[(0.1, 1)])),
        );
        let gauge = family(
            "pushtimer_job_exit_code",
            Metric::new(&[], Value::Gauge(7.0)),
        );

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
    fn gauges(name: &str, n: usize, pad: usize) -> Family {
        let padding = "x".repeat(pad);
        let mut family = Family::new(name, "", Kind::Gauge);
        family.metrics = (0..n)
            .map(|i| {
                Metric::new(
                    &[("i", &i.to_string()), ("pad", &padding)],
                    Value::Gauge(i as f64),
                )
            })
            .collect();
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
        let buckets: Vec<(f64, u64)> = (1..=20).map(|b| (f64::from(b), 1)).collect();
        let mut family = Family::new("h_seconds", "", Kind::Histogram);
        family.metrics = (0..100)
            .map(|i| Metric::new(&[("i", &i.to_string())], histogram(3, 1.0, &buckets)))
            .collect();
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
        let empty: [Family; 0] = [];
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

    /// A histogram whose buckets end with +Inf (as a user's collector may make; the conversion
    /// drops it, but a family built otherwise may have it) gets no second +Inf bucket.
    #[test]
    fn an_explicit_infinite_bucket_is_not_doubled() {
        let metric = Metric::new(&[], histogram(2, 0.3, &[(0.1, 1), (f64::INFINITY, 2)]));
        let families = [family("h_seconds", metric)];
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
            problems: Vec::new(),
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
            histograms: Vec::new(),
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

    /// A sample line of the text format, without escapes in it, as [`shown`] writes a series:
    /// labels sorted by name, `__name__` among them.
    fn as_series(line: &str) -> String {
        let (head, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = head.split_once('{').unwrap_or((head, "}"));
        let mut labels: Vec<String> = labels
            .trim_end_matches('}')
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.replace("=\"", "=").trim_end_matches('"').to_owned())
            .collect();
        labels.push(format!("__name__={name}"));
        labels.sort();
        format!("{} {value} @5", labels.join(","))
    }

    /// Remote write has the series the text format has, name, labels and value alike: the
    /// `le` and `quantile` values and the values themselves written as the text encoder
    /// writes them (`+Inf` too), in the same order.
    #[test]
    fn the_series_are_the_text_formats() {
        let summary = Summary {
            count: 4,
            sum: 2.5,
            quantiles: [(0.5, 0.25), (0.99, 1e6), (1.0, f64::INFINITY)]
                .iter()
                .map(|&(quantile, value)| Quantile { quantile, value })
                .collect(),
        };
        let families = [
            family("s_seconds", Metric::new(&[("a", "1")], summary)),
            family(
                "h_seconds",
                Metric::new(
                    &[("b", "2")],
                    histogram(3, 1e-7, &[(0.000_000_1, 1), (0.25, 2), (1e6, 3)]),
                ),
            ),
            family("g", Metric::new(&[], Value::Gauge(f64::NEG_INFINITY))),
        ];
        let (text, problems) = text::to_string(&families);
        assert!(problems.is_empty(), "{problems:?}");
        let expected: Vec<String> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(as_series)
            .collect();
        assert!(
            expected.contains(&"__name__=h_seconds_bucket,b=2,le=0.0000001 1 @5".to_owned()),
            "{expected:?}"
        );
        assert!(
            expected.contains(&"__name__=h_seconds_bucket,b=2,le=+Inf 3 @5".to_owned()),
            "{expected:?}"
        );
        let groups: [Labelled<'_>; 1] = [(&families, &[])];
        let requests = all(Batch::new(&[], 5).requests(&groups));
        let sent: Vec<String> = requests.iter().flat_map(shown).collect();
        // `shown` writes values as Rust does; the text's `+Inf`/`-Inf` are Rust's `inf`/`-inf`.
        let expected: Vec<String> = expected
            .iter()
            .map(|line| {
                line.replace(" +Inf @", " inf @")
                    .replace(" -Inf @", " -inf @")
            })
            .collect();
        assert_eq!(sent, expected);
    }

    /// What the text encoder leaves out is left out of remote write too, and said so once per
    /// family; the rest is written.
    #[test]
    fn what_the_text_format_leaves_out_is_left_out_and_said() {
        let mut half = Family::new("half", "", Kind::Gauge);
        half.metrics = vec![
            Metric::new(&[("ok", "1")], Value::Gauge(1.0)),
            Metric::new(&[("a-b", "1")], Value::Gauge(2.0)),
        ];
        let families = [
            family("bad-name", Metric::new(&[], Value::Gauge(1.0))),
            half,
            // A value of another kind than its family.
            Family::new("mixed", "", Kind::Counter).with(Metric::new(&[], Value::Gauge(3.0))),
        ];
        let groups: [Labelled<'_>; 1] = [(&families, &[])];
        let batch = Batch::new(&[], 5);
        let mut requests = batch.requests(&groups);
        let problems: Vec<String> = requests
            .take_problems()
            .iter()
            .map(|p| p.family.clone())
            .collect();
        assert_eq!(problems, ["bad-name", "half", "mixed"]);
        assert!(requests.take_problems().is_empty(), "taken");
        let sent = all(requests);
        assert_eq!(
            sent.iter().flat_map(shown).collect::<Vec<_>>(),
            ["__name__=half,ok=1 1 @5"]
        );
        let text_problems: Vec<String> = text::to_string(&families)
            .1
            .iter()
            .map(|p| p.family.clone())
            .collect();
        assert_eq!(
            text_problems, problems,
            "the text encoder leaves out the same"
        );
    }
}
