//! The Pushgateway as a destination: the job's group gets the latest state only when
//! something changed (see `changes.rs`; the user's own metrics are compared as the
//! `prometheus` registry gathers them, so a round with nothing new converts nothing) or the
//! keep-alive is due, so bursts of calls coalesce into one push and an idle job costs nothing
//! to render. The body is text, or protobuf when a family has a native histogram
//! (`encode/exposition.rs`). At exit the group gets the final state (or is deleted, with
//! `PUSHGATEWAY_DELETE_ON_EXIT`), and the run's records go to groups of their own.

use std::time::{Duration, Instant};

use crate::destinations::pusher::Pusher;
use crate::encode::exposition::{self, Exposition};
use crate::error::PushError;
use crate::model::family::Family;
use crate::push::destination::{Destination, LastAct, Round};
use crate::push::lane::{AnyLane, Lane};
use crate::settings::checked::PushSettings;
use crate::settings::config::PushMethod;
use crate::settings::env;
use crate::store::registry::Gathered;
use crate::store::run;
use crate::transport::endpoint::Endpoint;
use crate::transport::http::{Body, Exchange, Request};

/// A job whose state does not change still pushes this often, so that its run's duration and
/// the gateway's `push_time_seconds` show it is alive (the `PushtimerJobStuck` alert waits for
/// 30 minutes without a push). Unchanged state costs one render and one push per keep-alive.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(5 * 60);

/// The Pushgateway, as a destination: the job's group and how to push to it.
pub(crate) struct Gateway {
    pub(crate) pusher: Pusher,
    pub(crate) method: PushMethod,
    /// `PUSHGATEWAY_DELETE_ON_EXIT`: at exit the group is deleted instead of pushed.
    pub(crate) delete_on_exit: bool,
}

/// The gateway's lane, when `PUSHGATEWAY_URL` is set; an error names the setting that makes it
/// unusable.
pub(crate) fn build(
    settings: &PushSettings,
    job: &str,
    problems: &mut Vec<String>,
) -> Option<Result<Box<dyn AnyLane>, PushError>> {
    let server = settings.gateway.as_ref()?;
    let built = (|| {
        let endpoint = Endpoint::for_server(server, &env::GATEWAY, settings.timeout, problems)?;
        let mut pusher = Pusher::with_endpoint(endpoint, job)?;
        for (name, value) in &settings.grouping {
            pusher = pusher.grouping(name, value)?;
        }
        let gateway = Gateway {
            pusher,
            method: settings.method,
            delete_on_exit: settings.delete_on_exit,
        };
        Ok(Lane::boxed(gateway, settings.interval, settings.timeout))
    })();
    Some(built)
}

/// What the gateway's lane remembers between rounds.
pub(crate) struct GatewayMemory {
    /// Something changed that no successful push carried yet (at first, everything recorded
    /// before the lane started).
    pending: bool,
    /// The user's metrics as last pushed, as gathered (comparing them costs no conversion).
    user: Option<Gathered>,
    /// When the last round whose push succeeded started: the keep-alive counts from then.
    last_success: Option<Instant>,
}

impl Default for GatewayMemory {
    fn default() -> Self {
        GatewayMemory {
            pending: true,
            user: None,
            last_success: None,
        }
    }
}

/// Whether a periodic round pushes: something changed, or the last successful push is older
/// than [`KEEP_ALIVE`] (or there was none).
pub(crate) fn push_due(changed: bool, last_success: Option<Instant>, now: Instant) -> bool {
    changed || last_success.is_none_or(|last| now.saturating_duration_since(last) >= KEEP_ALIVE)
}

impl Destination for Gateway {
    type Memory = GatewayMemory;
    const THREAD: &'static str = "pushtimer";
    const TAKES_CHANGES: bool = true;

    fn name(&self) -> String {
        self.pusher.url()
    }

    fn base(&self) -> &str {
        self.pusher.base()
    }

    fn send_state(
        &self,
        round: &Round<'_>,
        flush: bool,
        memory: &mut GatewayMemory,
    ) -> Option<Exchange> {
        memory.pending |= round.outside.recorded;
        let user = round.registry.user_families();
        let changed = memory.pending || memory.user.as_ref() != Some(&user);
        if !flush && !push_due(changed, memory.last_success, round.outside.now) {
            return None;
        }
        let families = round.render(&user);
        let exchange = self.push(&families, round);
        if exchange.result.is_ok() {
            memory.pending = false;
            // Kept as gathered, moved, not copied: the render made its own families of it.
            memory.user = Some(user);
            memory.last_success = Some(round.outside.now);
        }
        Some(exchange)
    }

    /// The final push of the group (or its deletion), then the records in groups of their own,
    /// so that no later run's push erases them.
    fn send_last(&self, round: &Round<'_>, last: LastAct) -> Exchange {
        let group = if self.delete_on_exit {
            // Nothing is rendered (and no user collector runs) for a deletion.
            self.pusher
                .send(Request::Delete, round.deadline, round.retries)
        } else {
            let families = round.render_now();
            self.push(&families, round)
        };
        if let Err(error) = &group.result
            && !matches!(error, PushError::Status { .. } | PushError::Redirect { .. })
        {
            // The gateway did not answer the first request: the records would only wait for
            // it too.
            return group;
        }
        let (completion, success) = round.registry.record_families(last.exit_code);
        let mut records = vec![(run::LAST_COMPLETION, completion)];
        records.extend(success.map(|success| (run::LAST_SUCCESS, success)));
        let mut outcome = group;
        for (record, families) in records {
            let (encoded, problems) = exposition::for_gateway(&families);
            round.report(problems);
            let sent = self.pusher.send_record(
                record,
                Request::Put(body(&encoded)),
                round.deadline,
                round.retries,
            );
            if outcome.result.is_ok() {
                outcome = sent;
            }
        }
        outcome
    }

    fn last_act_name(&self) -> &'static str {
        if self.delete_on_exit {
            "deletion of the group"
        } else {
            "final push"
        }
    }
}

impl Gateway {
    /// Encodes `families` (text, or protobuf for a native histogram) and pushes them; an
    /// empty registry is not pushed.
    fn push(&self, families: &[Family], round: &Round<'_>) -> Exchange {
        let (encoded, problems) = exposition::for_gateway(families);
        round.report(problems);
        if encoded.is_empty() {
            return Exchange::done();
        }
        let request = match self.method {
            PushMethod::Put => Request::Put(body(&encoded)),
            PushMethod::Post => Request::Post(body(&encoded)),
        };
        self.pusher.send(request, round.deadline, round.retries)
    }
}

/// `encoded` as a request's body.
fn body(encoded: &Exposition) -> Body<'_> {
    Body {
        bytes: &encoded.bytes,
        content_type: encoded.content_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;

    use std::sync::Mutex;

    use crate::destinations::remote_write::RemoteWriter;
    use crate::push::destination::Outside;
    use crate::push::lane::{Action, LaneState};
    use crate::settings::checked::Naming;
    use crate::settings::server::Server;
    use crate::store::registry::Registry;
    use crate::store::run::Run;

    /// The request lines (`PUT /metrics/job/x`) a loopback server answered 200, in order.
    type Received = Arc<Mutex<Vec<String>>>;

    /// A loopback HTTP server answering every request 200, keeping its request lines: it
    /// plays both the gateway and the remote-write endpoint (told apart by the path).
    fn loopback_server() -> (String, Received) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let received = Received::default();
        let kept = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || answer_each_request(stream, &kept));
            }
        });
        (url, received)
    }

    fn answer_each_request(stream: std::net::TcpStream, received: &Mutex<Vec<String>>) {
        let Ok(mut writer) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                return;
            }
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let line: Vec<&str> = request_line.split_whitespace().take(2).collect();
            received.lock().unwrap().push(line.join(" "));
            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
            if writer.write_all(answer).is_err() {
                return;
            }
        }
    }

    /// How many of the requests so far start with `prefix` (`PUT /metrics/job/`, say).
    fn count(received: &Received, prefix: &str) -> usize {
        let received = received.lock().unwrap();
        received
            .iter()
            .filter(|line| line.starts_with(prefix))
            .count()
    }

    /// The keep-alive of unchanged state counts from the last push to the gateway (periodic
    /// or flushed), not from the last render: with remote write set, every round renders and
    /// writes, and the gateway still gets unchanged state again 5 minutes after its last push. Five minutes pass in the
    /// rounds' [`Outside::now`]; the pushes are real HTTP requests to a loopback server.
    #[test]
    fn the_keep_alive_counts_from_the_last_push_not_the_last_render() {
        let (url, received) = loopback_server();
        let write_url = format!("{url}/api/v1/write");
        let remote = Endpoint::for_server(
            &Server::new(&write_url),
            &env::REMOTE_WRITE,
            Duration::from_secs(5),
            &mut Vec::new(),
        )
        .expect("an endpoint");
        let gateway = Gateway {
            pusher: Pusher::new(&url, "keep_alive").expect("a pusher"),
            method: PushMethod::Put,
            delete_on_exit: false,
        };
        let (interval, timeout) = (Duration::from_secs(15), Duration::from_secs(5));
        let gateway = Lane::new(gateway, interval, timeout);
        let remote = Lane::new(
            RemoteWriter::new(remote, "keep_alive", &[]),
            interval,
            timeout,
        );
        let registry = Registry::new(Naming::default(), Run::new(Vec::new(), None));
        let start = Instant::now();
        let minutes = |m: u64| start + Duration::from_secs(60 * m);
        let mut gateway_state = LaneState::default();
        let mut remote_state = LaneState::default();
        // A round of each lane at `at` (the gateway's sees nothing recorded: the state only
        // changes by the first push).
        let mut round = |action: Action, at: Instant| {
            let outside = Outside {
                now: at,
                recorded: false,
            };
            let deadline = Instant::now() + Duration::from_secs(5);
            let pushed = gateway.round(&registry, action, deadline, outside, &mut gateway_state);
            assert!(pushed.result.is_ok(), "{:?}", pushed.result);
            let written = remote.round(&registry, action, deadline, outside, &mut remote_state);
            assert!(written.result.is_ok(), "{:?}", written.result);
        };
        let pushes = || count(&received, "PUT /metrics/job/keep_alive");
        let writes = || count(&received, "POST /api/v1/write");

        round(Action::Periodic, start);
        assert_eq!(
            (pushes(), writes()),
            (1, 1),
            "the first round pushes what is new"
        );
        // Nothing changes: every round renders and writes, and the gateway is left alone.
        for m in 1..=4 {
            round(Action::Periodic, minutes(m));
        }
        assert_eq!(
            (pushes(), writes()),
            (1, 5),
            "no push of unchanged state before 5 min"
        );
        assert_eq!(
            (gateway.stats().renders, remote.stats().renders),
            (1, 5),
            "remote write rendered every round, the gateway only to push"
        );
        // 5 minutes after the last push (1 minute after the last render): the keep-alive.
        round(Action::Periodic, minutes(5));
        assert_eq!((pushes(), writes()), (2, 6), "the keep-alive is due");
        round(Action::Periodic, minutes(6));
        assert_eq!(pushes(), 2, "the next keep-alive counts from that push");
        // A flush is a push too: the keep-alive after it counts from it.
        round(Action::Push, minutes(7));
        assert_eq!(pushes(), 3);
        round(Action::Periodic, minutes(10));
        assert_eq!(
            pushes(),
            3,
            "5 min after the keep-alive, 3 after the flush: not due"
        );
        round(Action::Periodic, minutes(12));
        assert_eq!((pushes(), writes()), (4, 10), "5 min after the flush");
    }

    #[test]
    fn an_unchanged_state_is_pushed_again_only_after_the_keep_alive() {
        let now = Instant::now();
        assert!(push_due(true, Some(now), now));
        assert!(push_due(false, None, now));
        assert!(!push_due(false, Some(now), now));
        let earlier = now.checked_sub(KEEP_ALIVE).unwrap_or(now);
        assert_eq!(push_due(false, Some(earlier), now), earlier < now);
    }
}
