//! The client for one Prometheus remote-write endpoint (`PUSHTIMER_REMOTE_WRITE_URL`):
//! Prometheus with `--web.enable-remote-write-receiver`, VictoriaMetrics, Mimir, Thanos
//! Receive.
//!
//! Each write sends every series once, stamped with the time of the write: the store keeps
//! every write as a point, so the history of every run is kept (a Pushgateway keeps only the
//! last state). The job and grouping labels, which make the group's URL on a Pushgateway,
//! become labels of every series.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::endpoint::Endpoint;
use crate::env;
use crate::http::{Exchange, Payload};
use crate::retry::Retries;
use crate::url::ServerUrl;
use crate::write_request::{Batch, Labelled};

/// The headers remote write 1.0 requires besides the content type and encoding.
const HEADERS: &[(&str, &str)] = &[("X-Prometheus-Remote-Write-Version", "0.1.0")];

/// One remote-write endpoint and the labels that identify this job there.
#[derive(Debug)]
pub(crate) struct RemoteWriter {
    endpoint: Endpoint,
    /// The endpoint's whole URL, without credentials.
    url: String,
    /// `job` and the grouping labels.
    target: Vec<(String, String)>,
    /// The timestamp of the last write, in Unix milliseconds: each write gets a later one, so
    /// that two writes within a millisecond (or a clock stepped back) are not refused as
    /// out-of-order or duplicate samples.
    last_timestamp: AtomicI64,
}

impl RemoteWriter {
    /// A writer to `url` for the job `job` and its grouping labels.
    pub(crate) fn new(url: ServerUrl, job: &str, grouping: &[(String, String)]) -> RemoteWriter {
        let endpoint = Endpoint::new(url, &env::REMOTE_WRITE);
        let mut target = vec![("job".to_owned(), job.to_owned())];
        for (name, value) in grouping {
            env::set_pair(&mut target, name, value);
        }
        RemoteWriter {
            url: endpoint.base().to_owned(),
            endpoint,
            target,
            last_timestamp: AtomicI64::new(0),
        }
    }

    /// For the settings of the connection (TLS, credentials, deadline).
    pub(crate) fn endpoint_mut(&mut self) -> &mut Endpoint {
        &mut self.endpoint
    }

    /// The URL, without credentials.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Writes the samples of every group of families (each with its extra labels) as one
    /// request; nothing is sent when there is no sample.
    pub(crate) fn write(
        &self,
        groups: &[Labelled<'_>],
        deadline: Instant,
        retries: Retries,
    ) -> Exchange {
        let mut batch = Batch::new(&self.target, self.next_timestamp());
        for (families, extra) in groups {
            batch.add(families, extra);
        }
        if batch.is_empty() {
            return Exchange::done();
        }
        let payload = Payload {
            bytes: batch.encode(),
            content_type: "application/x-protobuf",
            content_encoding: Some("snappy"),
            headers: HEADERS,
        };
        self.endpoint
            .exchange(&self.url, "POST", Some(&payload), deadline, retries)
    }

    /// Now in Unix milliseconds, and always later than the last write's.
    fn next_timestamp(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis();
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let mut last = self.last_timestamp.load(Ordering::Relaxed);
        loop {
            let next = now.max(last.saturating_add(1));
            match self.last_timestamp.compare_exchange_weak(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(actual) => last = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> RemoteWriter {
        let url = ServerUrl::parse(
            "https://u:s3cr%40t@h:9090/api/v1/write",
            env::REMOTE_WRITE_URL,
        )
        .unwrap();
        let grouping = vec![("instance".to_owned(), "w1".to_owned())];
        RemoteWriter::new(url, "etl", &grouping)
    }

    #[test]
    fn the_url_keeps_its_path_and_loses_its_credentials() {
        let writer = writer();
        assert_eq!(writer.url(), "https://h:9090/api/v1/write");
        assert!(!format!("{writer:?}").contains("s3cr"));
    }

    #[test]
    fn the_job_and_grouping_labels_are_the_target() {
        let writer = writer();
        let names: Vec<&str> = writer.target.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["job", "instance"]);
        assert_eq!(writer.target[0].1, "etl");
    }

    #[test]
    fn timestamps_always_move_forward() {
        let writer = writer();
        let mut last = 0;
        for _ in 0..1000 {
            let next = writer.next_timestamp();
            assert!(next > last);
            last = next;
        }
        writer.last_timestamp.store(i64::MAX, Ordering::Relaxed);
        assert_eq!(writer.next_timestamp(), i64::MAX);
    }
}
