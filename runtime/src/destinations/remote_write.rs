//! The client for one Prometheus remote-write endpoint (`PUSHTIMER_REMOTE_WRITE_URL`):
//! Prometheus with `--web.enable-remote-write-receiver`, VictoriaMetrics, Mimir, Thanos
//! Receive.
//!
//! Each write sends every series once, stamped with the time of the write: the store keeps
//! every write as a point, so the history of every run is kept (a Pushgateway keeps only the
//! last state). The job and grouping labels, which make the group's URL on a Pushgateway,
//! become labels of every series.
//!
//! A write is cut into requests of at most 2,000 samples (the default of Prometheus' own
//! sender) and 1 MiB of protobuf (see `write_request.rs`), sent one after another on the same
//! connection within the write's deadline: a job with hundreds of thousands of series would
//! otherwise send one request larger than receivers take (VictoriaMetrics refuses more than
//! 32 MiB), and lose every write, the final one included. [`send_all`] says what a failed
//! request does to the rest.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::diagnostics;
use crate::encode::write_request::{Batch, Labelled, MAX_REQUEST_BYTES, encode};
use crate::error::PushError;
use crate::push::destination::{Destination, LastAct, Round};
use crate::push::lane::{AnyLane, Lane};
use crate::settings::checked::PushSettings;
use crate::settings::env;
use crate::store::run;
use crate::transport::endpoint::Endpoint;
use crate::transport::http::{Exchange, Payload};
use crate::transport::retry::Retries;

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
    /// A series too large for any request was reported (once per run).
    left_out_reported: AtomicBool,
    /// What the endpoint made of native histograms so far: [`NATIVE_UNTRIED`],
    /// [`NATIVE_TAKEN`] or [`NATIVE_REFUSED`] (then they are written as their float series
    /// only, for the rest of the run).
    native: AtomicU8,
}

/// No write carrying a native histogram was answered yet.
const NATIVE_UNTRIED: u8 = 0;
/// The endpoint took a write carrying native histograms.
const NATIVE_TAKEN: u8 = 1;
/// The endpoint refused native histograms (Prometheus before 3.x without
/// `--enable-feature=native-histograms` answers 500 "native histograms are disabled", and
/// refuses the whole request).
const NATIVE_REFUSED: u8 = 2;

impl RemoteWriter {
    /// A writer to `endpoint` for the job `job` and its grouping labels.
    pub(crate) fn new(
        endpoint: Endpoint,
        job: &str,
        grouping: &[(String, String)],
    ) -> RemoteWriter {
        let mut target = vec![("job".to_owned(), job.to_owned())];
        for (name, value) in grouping {
            env::set_pair(&mut target, name, value);
        }
        RemoteWriter {
            url: endpoint.base().to_owned(),
            endpoint,
            target,
            last_timestamp: AtomicI64::new(0),
            left_out_reported: AtomicBool::new(false),
            native: AtomicU8::new(NATIVE_UNTRIED),
        }
    }

    /// The URL, without credentials.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Writes the samples of every group of families (each with its extra labels), in
    /// requests of at most 2,000 samples and [`MAX_REQUEST_BYTES`] bytes (see
    /// [`Batch::requests`]), sent one after another on the same connection, each retried as
    /// the round's retries allow and all of them within its deadline; nothing is sent when
    /// there is no sample. What one failed request does to the rest: see [`send_all`]. The
    /// result is the write's as a whole, so a failed write is reported once, however many of
    /// its requests failed. What the encoders leave out is reported through the round, before
    /// anything is sent.
    ///
    /// Native histograms go in the `histograms` field until the endpoint refuses them: then
    /// the write is made again at once without them (their float series are in it either
    /// way), and so is every later one, with one warning. The first write that carries one is
    /// retried quickly only, so that a refusal (a 500 from Prometheus) leaves time for that.
    pub(crate) fn write(&self, groups: &[Labelled<'_>], round: &Round<'_>) -> Exchange {
        let state = self.native.load(Ordering::Relaxed);
        let carries = state != NATIVE_REFUSED
            && groups
                .iter()
                .any(|(families, _)| families.iter().any(|f| f.has_native_histogram()));
        if !carries {
            return self.write_batch(groups, round, false, round.retries);
        }
        let retries = match state {
            NATIVE_UNTRIED => Retries::Quick,
            _ => round.retries,
        };
        let exchange = self.write_batch(groups, round, true, retries);
        match &exchange.result {
            Err(PushError::Status { code, body }) if refuses_native(body) => {
                self.native.store(NATIVE_REFUSED, Ordering::Relaxed);
                diagnostics::warn(format!(
                    "the remote-write endpoint {} refuses native histograms (HTTP {code}: {});                      they are written as their classic buckets, sum and count from now on                      (start Prometheus with --enable-feature=native-histograms to have them)",
                    self.url,
                    body.chars().take(200).collect::<String>()
                ));
                self.write_batch(groups, round, false, round.retries)
            }
            Ok(()) => {
                self.native.store(NATIVE_TAKEN, Ordering::Relaxed);
                exchange
            }
            Err(_) => exchange,
        }
    }

    /// One write of `groups`, with native histogram samples when `native`.
    fn write_batch(
        &self,
        groups: &[Labelled<'_>],
        round: &Round<'_>,
        native: bool,
        retries: Retries,
    ) -> Exchange {
        let deadline = round.deadline;
        let batch = Batch::new(&self.target, self.next_timestamp());
        let batch = if native {
            batch
        } else {
            batch.without_native()
        };
        let mut requests = batch.requests(groups);
        round.report(requests.take_problems());
        let exchange = send_all(requests.by_ref().map(|request| encode(&request)), |body| {
            let payload = Payload {
                bytes: body,
                content_type: "application/x-protobuf",
                content_encoding: Some("snappy"),
                headers: HEADERS,
            };
            self.endpoint
                .exchange(&self.url, "POST", Some(&payload), deadline, retries)
        });
        let left_out = requests.left_out();
        if left_out.series > 0 && !self.left_out_reported.swap(true, Ordering::Relaxed) {
            let name: String = left_out
                .first
                .as_deref()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect();
            diagnostics::warn(format!(
                "{} series left out of the remote write to {}, the first of them named \
                 {name}: each alone is larger than a request may be ({} KiB); shorten its \
                 labels. Further such series are left out silently.",
                left_out.series,
                self.url,
                MAX_REQUEST_BYTES / 1024,
            ));
        }
        exchange
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

/// Whether an answer's body says the server takes no native histograms: Prometheus' "native
/// histograms are disabled" (and other receivers' wording of the same, which names them).
fn refuses_native(body: &str) -> bool {
    body.to_ascii_lowercase().contains("native histogram")
}

/// Statuses by which a server refuses what one request carries, not the client: a bad or
/// out-of-order sample, a series too large (400 Bad Request, 409 Conflict, 413 Payload Too
/// Large, 422 Unprocessable Content). The other requests of the write carry other series.
const REFUSALS: &[u16] = &[400, 409, 413, 422];

/// Sends the request bodies of one write one after another with `send`, and says what came
/// of the write as a whole:
///
/// - A request refused for what it carries ([`REFUSALS`]) does not stop the write: the
///   remaining requests are still sent, since the server may take their series.
/// - Any other failure, once `send` has retried it as the rules allow (no connection, no
///   answer in time, 429 or 5xx, credentials refused, TLS), would meet the remaining requests
///   alike: the write stops there, without sending them. The next round writes every series
///   again anyway, and a server that is away or struggling is not sent more; a final write
///   stops too (its deadline is then spent, or the server asked for a later retry, or never
///   answered at all), so the job's exit is never held up.
///
/// The result is the failure that stopped the write, else the first refusal, else success;
/// the `Retry-After` is the longest any answer asked for. A status failure's body says how
/// much of the write was written when some of it was.
fn send_all<B>(bodies: impl Iterator<Item = B>, mut send: impl FnMut(B) -> Exchange) -> Exchange {
    let (mut sent, mut refused) = (0usize, 0usize);
    let mut first_refusal: Option<Exchange> = None;
    let mut stopped: Option<Exchange> = None;
    let mut retry_after = None;
    for body in bodies {
        sent = sent.saturating_add(1);
        let exchange = send(body);
        retry_after = retry_after.max(exchange.retry_after);
        match &exchange.result {
            Ok(()) => {}
            Err(PushError::Status { code, .. }) if REFUSALS.contains(code) => {
                refused = refused.saturating_add(1);
                first_refusal.get_or_insert(exchange);
            }
            Err(_) => {
                stopped = Some(exchange);
                break;
            }
        }
    }
    let written = sent
        .saturating_sub(refused)
        .saturating_sub(usize::from(stopped.is_some()));
    let (mut result, note) = match (stopped, first_refusal) {
        (Some(stop), _) => (
            stop.result,
            format!("requests of this write written before it: {written}; the rest were not sent"),
        ),
        (None, Some(refusal)) => (
            refusal.result,
            format!("{refused} of this write's {sent} requests refused; the others were written"),
        ),
        (None, None) => (Ok(()), String::new()),
    };
    if written > 0
        && let Err(PushError::Status { body, .. }) = &mut result
    {
        if body.is_empty() {
            *body = format!("({note})");
        } else {
            body.push_str(&format!(" ({note})"));
        }
    }
    Exchange {
        result,
        retry_after,
    }
}

/// The remote-write endpoint's lane, when `PUSHTIMER_REMOTE_WRITE_URL` is set; an error names
/// the setting that makes it unusable.
pub(crate) fn build(
    settings: &PushSettings,
    job: &str,
    problems: &mut Vec<String>,
) -> Option<Result<Box<dyn AnyLane>, PushError>> {
    let server = settings.remote_write.as_ref()?;
    let built = Endpoint::for_server(server, &env::REMOTE_WRITE, settings.timeout, problems).map(
        |endpoint| {
            let writer = RemoteWriter::new(endpoint, job, &settings.grouping);
            Lane::boxed(writer, settings.interval, settings.timeout)
        },
    );
    Some(built)
}

/// Remote write as a destination: every round writes the whole state, as a scrape would, so
/// the series stay fresh; the last act writes the final state and the run's records, each
/// record labelled as on a gateway (`pushtimer_record`).
impl Destination for RemoteWriter {
    type Memory = ();
    const THREAD: &'static str = "pushtimer-remote-write";
    const TAKES_CHANGES: bool = false;

    fn name(&self) -> String {
        RemoteWriter::url(self).to_owned()
    }

    fn base(&self) -> &str {
        RemoteWriter::url(self)
    }

    fn send_state(&self, round: &Round<'_>, _flush: bool, _memory: &mut ()) -> Option<Exchange> {
        let families = round.render_now();
        Some(self.write(&[(&families, &[])], round))
    }

    fn send_last(&self, round: &Round<'_>, last: LastAct) -> Exchange {
        let families = round.render_now();
        let (completion, success) = round.registry.record_families(last.exit_code);
        let mut groups: Vec<Labelled<'_>> = vec![
            (&families, &[]),
            (&completion, &[(run::RECORD_LABEL, run::LAST_COMPLETION)]),
        ];
        if let Some(success) = &success {
            groups.push((success, &[(run::RECORD_LABEL, run::LAST_SUCCESS)]));
        }
        self.write(&groups, round)
    }

    fn last_act_name(&self) -> &'static str {
        "final write"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> RemoteWriter {
        let server = crate::settings::server::Server::new("https://u:s3cr%40t@h:9090/api/v1/write");
        let endpoint = Endpoint::for_server(
            &server,
            &env::REMOTE_WRITE,
            Duration::from_secs(5),
            &mut Vec::new(),
        )
        .unwrap();
        let grouping = vec![("instance".to_owned(), "w1".to_owned())];
        RemoteWriter::new(endpoint, "etl", &grouping)
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

    fn status(code: u16) -> Exchange {
        Exchange {
            result: Err(PushError::Status {
                code,
                body: "no".to_owned(),
            }),
            retry_after: None,
        }
    }

    /// Sends requests 1..=`n`, answered as `answer` says; returns what `send_all` made of it
    /// and the requests sent.
    fn write(n: u32, answer: impl Fn(u32) -> Exchange) -> (Exchange, Vec<u32>) {
        let mut sent = Vec::new();
        let exchange = send_all(1..=n, |request| {
            sent.push(request);
            answer(request)
        });
        (exchange, sent)
    }

    #[test]
    fn every_request_is_sent_when_all_go_through() {
        let (exchange, sent) = write(5, |_| Exchange::done());
        assert_eq!(exchange, Exchange::done());
        assert_eq!(sent, [1, 2, 3, 4, 5]);
        let (exchange, sent) = write(0, |_| Exchange::done());
        assert_eq!(exchange, Exchange::done());
        assert!(sent.is_empty());
    }

    #[test]
    fn a_refused_request_does_not_stop_the_write() {
        for code in REFUSALS {
            let (exchange, sent) = write(4, |i| {
                if i == 2 || i == 3 {
                    status(*code)
                } else {
                    Exchange::done()
                }
            });
            assert_eq!(sent, [1, 2, 3, 4], "{code}");
            let expected =
                "no (2 of this write's 4 requests refused; the others were written)".to_owned();
            assert_eq!(
                exchange.result,
                Err(PushError::Status {
                    code: *code,
                    body: expected
                })
            );
        }
        // Nothing written: the body is the server's alone.
        let (exchange, sent) = write(2, |_| status(400));
        assert_eq!(sent, [1, 2]);
        assert_eq!(exchange, status(400));
    }

    #[test]
    fn any_other_failure_stops_the_write_there() {
        let failures = [
            status(503),
            status(429),
            status(401),
            status(404),
            Exchange::failed(PushError::Timeout),
            Exchange::failed(PushError::ConnectionRefused),
            Exchange::failed(PushError::Tls {
                reason: "untrusted".to_owned(),
            }),
        ];
        for failure in failures {
            let (exchange, sent) = write(5, |i| {
                if i == 3 {
                    failure.clone()
                } else {
                    Exchange::done()
                }
            });
            assert_eq!(sent, [1, 2, 3], "{failure:?}");
            match (&exchange.result, &failure.result) {
                (Err(PushError::Status { code, body }), Err(PushError::Status { code: c, .. })) => {
                    assert_eq!(code, c);
                    assert_eq!(
                        body,
                        "no (requests of this write written before it: 2; the rest were not sent)"
                    );
                }
                (got, expected) => assert_eq!(got, expected),
            }
        }
        // The first request failing: nothing written, the server's words alone.
        let (exchange, sent) = write(5, |_| status(503));
        assert_eq!((exchange, sent), (status(503), vec![1]));
    }

    #[test]
    fn the_failure_that_stopped_the_write_wins_over_a_refusal_and_retry_after_is_kept() {
        let (exchange, sent) = write(5, |i| match i {
            1 => status(400),
            2 => Exchange {
                retry_after: Some(Duration::from_secs(7)),
                ..status(429)
            },
            _ => Exchange::done(),
        });
        assert_eq!(sent, [1, 2]);
        assert!(
            matches!(exchange.result, Err(PushError::Status { code: 429, .. })),
            "{exchange:?}"
        );
        assert_eq!(exchange.retry_after, Some(Duration::from_secs(7)));
    }
}
