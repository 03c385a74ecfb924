//! The Prometheus remote-write 1.0 body: the metric families as a protobuf `WriteRequest`,
//! snappy-compressed (block format).
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

/// Builds a request: every sample of the families added, each series labelled with its own
/// labels and the target's.
pub(crate) struct Batch<'a> {
    /// The labels every series gets (job, grouping labels); they win over a series' own label
    /// of the same name, as the Pushgateway's grouping labels do.
    target: &'a [(String, String)],
    timestamp_ms: i64,
    request: WriteRequest,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(target: &'a [(String, String)], timestamp_ms: i64) -> Batch<'a> {
        Batch {
            target,
            timestamp_ms,
            request: WriteRequest::default(),
        }
    }

    /// Adds every sample of `families`, with `extra` labels on each series (the target's
    /// still win).
    pub(crate) fn add(&mut self, families: &[MetricFamily], extra: &[(&str, &str)]) {
        for family in families {
            let name = family.name();
            for metric in family.get_metric() {
                for (suffix, label, value) in samples(family.get_field_type(), metric) {
                    let series = self.series(metric, &format!("{name}{suffix}"), label, extra);
                    self.request.timeseries.push(TimeSeries {
                        labels: series,
                        samples: vec![Sample {
                            value,
                            timestamp: self.timestamp_ms,
                        }],
                    });
                }
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.request.timeseries.is_empty()
    }

    /// The body: protobuf, snappy-compressed (block format).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let protobuf = prost::Message::encode_to_vec(&self.request);
        snap::raw::Encoder::new()
            .compress_vec(&protobuf)
            // Fails only for inputs beyond 2^32 bytes; an empty body is then refused by the
            // receiver with a 400 that says so, rather than a panic here.
            .unwrap_or_default()
    }

    #[cfg(test)]
    pub(crate) fn request(&self) -> &WriteRequest {
        &self.request
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
        let mut batch = Batch::new(&target, 1_700_000_000_123);
        batch.add(&[summary, histogram], &[]);
        batch.add(&[gauge], &[("pushtimer_record", "last_completion")]);
        assert_eq!(
            shown(batch.request()),
            [
                "__name__=load_seconds,instance=w1,job=etl,outcome=ok,quantile=0.5 0.25 @1700000000123",
                "__name__=load_seconds_sum,instance=w1,job=etl,outcome=ok 1.5 @1700000000123",
                "__name__=load_seconds_count,instance=w1,job=etl,outcome=ok 3 @1700000000123",
                "__name__=step_seconds_bucket,instance=w1,job=etl,le=0.1,outcome=ok 1 @1700000000123",
                "__name__=step_seconds_bucket,instance=w1,job=etl,le=+Inf,outcome=ok 2 @1700000000123",
                "__name__=step_seconds_sum,instance=w1,job=etl,outcome=ok 0.3 @1700000000123",
                "__name__=step_seconds_count,instance=w1,job=etl,outcome=ok 2 @1700000000123",
                "__name__=pushtimer_job_exit_code,instance=w1,job=etl,pushtimer_record=last_completion 7 @1700000000123",
            ]
        );
    }

    #[test]
    fn the_body_is_snappy_compressed_protobuf_that_decodes_back() {
        let target = vec![("job".to_owned(), "j".to_owned())];
        let mut gauge = Gauge::default();
        gauge.set_value(1.0);
        let mut metric = Metric::default();
        metric.set_gauge(gauge);
        let mut batch = Batch::new(&target, 5);
        assert!(batch.is_empty());
        batch.add(&[family("g", MetricType::GAUGE, metric)], &[]);
        let body = batch.encode();
        let protobuf = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        let decoded: WriteRequest = prost::Message::decode(&protobuf[..]).unwrap();
        assert_eq!(&decoded, batch.request());
    }
}
