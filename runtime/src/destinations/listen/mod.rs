//! The `/metrics` endpoint (`PUSHTIMER_LISTEN`): while the job runs, Prometheus scrapes it as
//! it scrapes any exporter. It suits jobs that run long enough to be scraped several times
//! (Prometheus' guidance: more than a few minutes); a shorter job may end between two scrapes
//! and is better served by the gateway, remote write or the textfile.
//!
//! What is served: `GET` and `HEAD /metrics` answer the text exposition (format 0.0.4) of
//! everything the registry holds, gzipped when the scraper accepts it (Prometheus does); any
//! other path is 404, any other method 405, a request that does not parse 400, a head over
//! [`MAX_HEAD`] 431. One request per connection (`Connection: close`): a scraper connects
//! once per scrape, and no connection outlives [`CONNECTION_DEADLINE`].
//!
//! No job or grouping labels of pushtimer's are added: the scrape's target labels (`job`,
//! `instance`) already identify the job, and Prometheus (without `honor_labels`) would rename
//! a `job` label of the exposition to `exported_job`.
//!
//! In this folder: the endpoint as a destination (here), its address (`address.rs`), the
//! threads that accept and serve connections (`server.rs`) and one request and its answer
//! (`http.rs`).
//!
//! Bounded, so that a slow or hostile scraper never slows the job:
//!
//! - the address is an IP address, never a host name (resolving one could block start-up),
//!   and it is bound when the destinations are built, so a taken port or a bad address is
//!   one warning naming `PUSHTIMER_LISTEN` and this destination left out, nothing more;
//! - a request head is read up to [`MAX_HEAD`] bytes, and each connection has
//!   [`CONNECTION_DEADLINE`] for everything (every read and write is given what is left);
//! - at most [`MAX_CONNECTIONS`] are served at once, each on a thread of its own; a new one
//!   beyond that drops the oldest, so idle connections (a slowloris) can never keep a real
//!   scrape out: they are the oldest when it comes. At most [`MAX_THREADS`] threads exist
//!   (the dropped connections' threads end at once: shutting a socket down wakes them);
//! - the registry is rendered at most once per [`RENDER_EVERY`] and by one thread at a time:
//!   a scrape within that time of the last render gets the same bytes, so a scraper hammering
//!   the endpoint costs a bounded amount of CPU. Rendering runs the user's collectors and
//!   its notes go to the user's logger: no lock of this file is held meanwhile.
//!
//! Rounds and exit: the lane's rounds have nothing to send (the state is pulled by the
//! scraper, not pushed), and the last act at exit has nothing to do: it reports nothing, no
//! warning and no delivery, since the final state goes only to the other destinations. The
//! listener keeps serving while the process exits and ends with it; Prometheus then marks the
//! target down (`up` 0) and the series go stale, their last values being the last scrape's.
//! `flush()` counts the endpoint among the destinations that took the state, since it serves
//! the current state at the next scrape.
//!
//! The endpoint is up from pushtimer's start (the first timed call, or whatever else first
//! touches pushtimer: `Config::install`, `registry()`, ...), not from the process's.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::diagnostics;
// The text exposition's (format 0.0.4), what `Registry::render` writes.
use crate::encode::text::CONTENT_TYPE;
use crate::error::PushError;
use crate::push::destination::{Destination, LastAct, Round};
use crate::push::lane::{AnyLane, Lane};
use crate::settings::checked::PushSettings;
use crate::settings::env;
use crate::store::registry::Registry;
use crate::transport::deadline;
use crate::transport::http::Exchange;

mod address;
mod http;
mod server;
#[cfg(test)]
mod tests;

use address::parse_address;

/// The most a request head may take (request line and headers): what Go's and most servers'
/// defaults allow is more, but a scraper's head is a few hundred bytes.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// Everything one connection may take, reading and writing: Prometheus' default scrape
/// timeout, so no scrape it would wait for is cut short.
pub(crate) const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);

/// Connections served at once. Enough for a few scrapers (a pair of Prometheus servers, a
/// person with curl); one more drops the oldest.
pub(crate) const MAX_CONNECTIONS: usize = 8;

/// Threads serving connections, at most: the [`MAX_CONNECTIONS`] being served, and room for
/// the dropped ones' threads, which end as soon as they wake. With this many, accepting waits
/// for one to end (at most [`CONNECTION_DEADLINE`]; then the connection is closed unanswered).
pub(crate) const MAX_THREADS: usize = 2 * MAX_CONNECTIONS;

/// The registry is rendered at most this often; scrapes in between get the last rendering.
pub(crate) const RENDER_EVERY: Duration = Duration::from_secs(1);

/// After an answer, how long (and how much, [`DRAIN_LIMIT`]) what the client still sends is
/// read and thrown away before closing (see `http.rs`'s `linger`).
const LINGER: Duration = Duration::from_secs(1);
const DRAIN_LIMIT: usize = 64 * 1024;

/// The pause after a failed `accept` (no file descriptor left, say), which would otherwise
/// fail again at once, in a loop.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// The forms of an address, for messages.
pub(super) const FORMS: &str = "give ip:port, [ipv6]:port, or :port for every IPv4 interface, such as \
                     127.0.0.1:9464, [::1]:9464 or :9464";

/// The endpoint: the bound socket, the connections being served, the last rendering.
pub(crate) struct Listen {
    socket: TcpListener,
    /// [`CONNECTION_DEADLINE`] (shorter in the unit tests, which wait for it).
    connection_deadline: Duration,
    /// `http://<bound address>/metrics`.
    url: String,
    /// `http://<bound address>`: the part of the name the user gave.
    base: String,
    open: Mutex<Open>,
    /// Threads serving a connection now, and the wake-up when one ends.
    threads: Mutex<usize>,
    thread_ended: Condvar,
    cache: Mutex<Option<Arc<Rendered>>>,
    /// A thread is rendering; waiters for the first rendering wait on `rendered`.
    rendering: AtomicBool,
    rendered: Condvar,
    /// The endpoint's own trouble (accept or thread failures) was reported: once per run.
    warned: AtomicBool,
}

/// The connections being served, oldest first, each with a handle to shut it down by.
#[derive(Default)]
struct Open {
    next: u64,
    connections: VecDeque<(u64, TcpStream)>,
}

/// One rendering of the registry.
struct Rendered {
    at: Instant,
    plain: Vec<u8>,
    /// Compressed on the first request that accepts gzip, once per rendering; `None` if it
    /// could not be.
    gzip: OnceLock<Option<Vec<u8>>>,
}

impl Rendered {
    fn gzipped(&self) -> Option<&[u8]> {
        self.gzip
            .get_or_init(|| {
                let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
                encoder.write_all(&self.plain).ok()?;
                encoder.finish().ok()
            })
            .as_deref()
    }
}

/// The endpoint's lane, when `PUSHTIMER_LISTEN` is set; an error names the setting when the
/// address is not one or cannot be bound (taken, not on this host).
pub(crate) fn build(
    settings: &PushSettings,
    // The job's name and grouping labels are not added: the scrape's target labels say which
    // job this is (see the module's documentation).
    _job: &str,
    _problems: &mut Vec<String>,
) -> Option<Result<Box<dyn AnyLane>, PushError>> {
    let address = settings.listen.as_ref()?;
    let built = parse_address(address)
        .map_err(invalid)
        .and_then(Listen::bind)
        .map(|listen| Lane::boxed(listen, settings.interval, settings.timeout));
    Some(built)
}

fn invalid(reason: String) -> PushError {
    PushError::InvalidConfig {
        setting: env::LISTEN,
        reason,
    }
}

impl Listen {
    /// Binds `address` now, so that a taken port is known at start-up.
    pub(crate) fn bind(address: SocketAddr) -> Result<Listen, PushError> {
        let socket = TcpListener::bind(address)
            .map_err(|error| invalid(format!("cannot listen on {address}: {error}")))?;
        let bound = socket.local_addr().unwrap_or(address);
        let base = format!("http://{bound}");
        Ok(Listen {
            socket,
            connection_deadline: CONNECTION_DEADLINE,
            url: format!("{base}/metrics"),
            base,
            open: Mutex::default(),
            threads: Mutex::new(0),
            thread_ended: Condvar::new(),
            cache: Mutex::new(None),
            rendering: AtomicBool::new(false),
            rendered: Condvar::new(),
            warned: AtomicBool::new(false),
        })
    }
}

/// The endpoint as a destination: started with the lane, with nothing to send in a round or
/// at exit (see the module's documentation).
impl Destination for Listen {
    type Memory = ();
    const THREAD: &'static str = "pushtimer-listen";
    // Scrapes read the whole state each time; the flags are the gateway's.
    const TAKES_CHANGES: bool = false;

    fn name(&self) -> String {
        self.url.clone()
    }

    fn base(&self) -> &str {
        &self.base
    }

    fn start(&'static self, registry: &'static Registry) {
        self.serve_forever(registry);
    }

    fn send_state(&self, _round: &Round<'_>, _flush: bool, _memory: &mut ()) -> Option<Exchange> {
        None
    }

    /// Nothing to do: the other destinations take the final state, and the endpoint serves
    /// until the process ends. `done` makes the verdict at exit say nothing: no failure to
    /// warn of, and (since no round ever failed) no recovery to announce either.
    fn send_last(&self, _round: &Round<'_>, _last: LastAct) -> Exchange {
        Exchange::done()
    }

    fn last_act_name(&self) -> &'static str {
        "last scrape"
    }
}
