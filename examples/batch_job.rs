//! A nightly ETL batch job timed with pushtimer.
//!
//! The job loads a few shards of raw CSV, turns each into per-user features (one shard is
//! corrupt and gets skipped), counts the rows it transformed, uploads the features, and
//! reports what pushtimer recorded.
//! Work is simulated with short sleeps; the whole run takes well under a second.
//!
//! ```text
//! cargo run -p pushtimer-examples --example batch_job
//! PUSHGATEWAY_URL=http://localhost:9091 cargo run -p pushtimer-examples --example batch_job
//! ```
//!
//! Pushtimer's warnings (an unreachable gateway, a bad setting) go through the `log` crate;
//! this job shows them with `env_logger` at level `warn`, or whatever `RUST_LOG` says.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::thread::sleep;
use std::time::{Duration, Instant};

use pushtimer::{PushError, Summary};

/// Shards in tonight's export.
const SHARDS: usize = 4;
/// Rows per upload request.
const UPLOAD_CHUNK: usize = 4;

fn main() -> Result<(), String> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    // `--fail`: tonight's export is corrupt, and the job fails (exit code 1), as a real one
    // would; pushtimer records that run's failure.
    let failing = std::env::args().any(|arg| arg == "--fail");

    // The scheduler queued the job a while ago; we only get a worker slot now. That wait is
    // not a function call, so it is measured by hand.
    let enqueued = Instant::now();
    sleep(Duration::from_millis(60)); // stand-in for waiting on the cluster queue
    let queue_wait = Summary::builder("etl_queue_wait")
        .help("Time the job waited for a worker slot before it started.")
        .label("queue", "nightly")
        .register();
    match queue_wait {
        Ok(queue_wait) => queue_wait.observe_duration(enqueued.elapsed()),
        // Metrics never hurt the job: a bad name is a warning, not a failure.
        Err(error) => log::warn!("queue wait not recorded: {error}"),
    }

    let mut features = Vec::new();
    for i in 0..SHARDS {
        let mut shard = load_shard(i);
        if failing {
            shard.lines.push(String::from("corrupt"));
        }
        match transform(&shard) {
            Ok(rows) => features.extend(rows),
            Err(error) => println!("skipped: {error}"),
        }
    }

    let uploaded = block_on(upload(&features));
    println!("uploaded {uploaded} feature rows from {SHARDS} shards\n");
    // A value of the run that is no duration or count: how many rows the run ends with.
    match pushtimer::Gauge::builder("etl_feature_rows")
        .help("Feature rows the run produced.")
        .register()
    {
        Ok(rows) => {
            // Row counts are far below 2^53: exact as an f64.
            if let Err(error) = rows.set(features.len() as f64) {
                log::warn!("feature rows not recorded: {error}");
            }
        }
        Err(error) => log::warn!("feature rows not recorded: {error}"),
    }

    report(&pushtimer::render());
    push();
    if features.is_empty() {
        return Err(String::from("no shard could be transformed"));
    }
    Ok(())
}

/// Loads one shard of the nightly export from object storage.
///
/// Called once per shard; every call lands in the same series, a histogram (the slowest
/// shard matters more than the average one).
#[pushtimer::timed(name = "etl_load_shard", labels(stage = "load"), histogram)]
fn load_shard(i: usize) -> Shard {
    sleep(Duration::from_millis(35));
    let mut lines: Vec<String> = (0..5)
        .map(|row| format!("{},{}.{}", 100 + i * 10 + row, row + 1, i))
        .collect();
    if i == 2 {
        // Every night has one of these.
        lines.push(String::from("117,n/a"));
    }
    Shard { id: i, lines }
}

/// Parses one shard's rows and turns them into per-user features.
///
/// Fails on the first malformed row; the call is recorded either way.
#[pushtimer::timed(name = "etl_transform", quantiles(0.5, 0.99))]
fn transform(shard: &Shard) -> Result<Vec<Feature>, TransformError> {
    if shard.lines.is_empty() {
        return Err(TransformError::Empty { shard: shard.id });
    }
    let mut features = Vec::with_capacity(shard.lines.len());
    for (number, line) in shard.lines.iter().enumerate() {
        sleep(Duration::from_millis(5));
        let (user, value) = parse_row(line).ok_or_else(|| TransformError::BadRow {
            shard: shard.id,
            line: number + 1,
            text: line.clone(),
        })?;
        features.push(Feature {
            user,
            score: value.ln_1p(),
        });
    }
    // What the stage got through, named after it plus a unit: `etl_transform_rows_total`
    // beside `etl_transform_seconds`, so rows per second of the run is one PromQL division.
    pushtimer::count!("etl_transform_rows", features.len());
    Ok(features)
}

/// Uploads the features to the feature store, a few rows per request.
///
/// Timed from the first poll to completion, across every await.
#[pushtimer::timed(name = "etl_upload")]
async fn upload(features: &[Feature]) -> usize {
    let mut sent = 0;
    for chunk in features.chunks(UPLOAD_CHUNK) {
        sent += send_chunk(chunk).await;
    }
    sent
}

/// One upload request: simulated by a short sleep and a yield back to the executor.
async fn send_chunk(chunk: &[Feature]) -> usize {
    sleep(Duration::from_millis(20));
    let _checksum: f64 = chunk.iter().map(|f| f64::from(f.user) * f.score).sum();
    YieldNow(false).await;
    chunk.len()
}

/// Prints a table of every summary in `exposition`, then the exposition itself.
fn report(exposition: &str) {
    let rows = summaries(exposition);
    let headers = ["metric", "labels", "count", "sum (s)", "avg (ms)"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|((name, labels), stats)| {
            let average_ms = if stats.count > 0 {
                stats.sum / stats.count as f64 * 1000.0
            } else {
                0.0
            };
            [
                name.clone(),
                if labels.is_empty() {
                    String::from("-")
                } else {
                    labels.clone()
                },
                format!("{}", stats.count),
                format!("{:.3}", stats.sum),
                format!("{average_ms:.1}"),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |row: [&str; 5]| {
        let [name, labels, count, sum, average] = row;
        let [w0, w1, w2, w3, w4] = widths;
        println!("{name:<w0$}  {labels:<w1$}  {count:>w2$}  {sum:>w3$}  {average:>w4$}");
    };

    println!("== recorded timings ==");
    line(headers);
    line(widths.map(|w| "-".repeat(w)).each_ref().map(String::as_str));
    for row in &cells {
        line(row.each_ref().map(String::as_str));
    }
    println!("\n== raw exposition (what a push sends) ==");
    print!("{exposition}");
}

/// `count` and `sum` of one summary series.
#[derive(Debug, Default)]
struct Stats {
    count: u64,
    sum: f64,
}

/// The count and sum of each summary and histogram series of a text exposition (format
/// 0.0.4), keyed by metric name and labels.
fn summaries(exposition: &str) -> BTreeMap<(String, String), Stats> {
    let summary_names: Vec<&str> = exposition
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| {
            rest.strip_suffix(" summary")
                .or_else(|| rest.strip_suffix(" histogram"))
        })
        .collect();
    let mut series: BTreeMap<(String, String), Stats> = BTreeMap::new();
    for line in exposition.lines().filter(|line| !line.starts_with('#')) {
        let Some((sample, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (name, labels) = match sample.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').unwrap_or(rest)),
            None => (sample, ""),
        };
        let (base, is_count) = if let Some(base) = name.strip_suffix("_count") {
            (base, true)
        } else if let Some(base) = name.strip_suffix("_sum") {
            (base, false)
        } else {
            continue;
        };
        if !summary_names.contains(&base) {
            continue;
        }
        let stats = series
            .entry((base.to_owned(), labels.to_owned()))
            .or_default();
        if is_count {
            stats.count = value.parse().unwrap_or(0);
        } else {
            stats.sum = value.parse().unwrap_or(0.0);
        }
    }
    series
}

/// Pushes now when a destination is set, and says how it went. Never fails the job: the
/// exit code is the same whatever the gateway does.
fn push() {
    println!();
    match pushtimer::flush() {
        Ok(()) => println!("pushed to {}", destinations_for_display()),
        Err(PushError::NotConfigured) => println!(
            "not pushed: no destination is set; run with PUSHGATEWAY_URL=http://localhost:9091 \
             to push these metrics"
        ),
        Err(error) => match &error {
            // One destination took it and another did not: the error names both.
            PushError::Undelivered { delivered, .. } if !delivered.is_empty() => {
                println!("pushed in part: {error}");
            }
            _ => println!("not pushed: {error}"),
        },
    }
}

/// The destinations set (gateway and remote-write URLs without credentials, the textfile, the
/// `/metrics` address), fit for printing.
fn destinations_for_display() -> String {
    let set = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    let mut shown: Vec<String> = ["PUSHGATEWAY_URL", "PUSHTIMER_REMOTE_WRITE_URL"]
        .iter()
        .filter_map(|name| set(name))
        .map(|url| without_credentials(&url))
        .collect();
    shown.extend(set("PUSHTIMER_TEXTFILE").map(|path| format!("the textfile {}", path.trim())));
    shown.extend(set("PUSHTIMER_LISTEN").map(|address| format!("/metrics at {}", address.trim())));
    shown.join(" and ")
}

/// `url` without any `user:password@` part: pushtimer reads everything up to the *last* `@` as
/// credentials (passwords hold `/`, `#`, `?` unencoded), so this cuts there too.
fn without_credentials(url: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

/// Runs a future to completion on the current thread.
///
/// Std only, and it polls in a loop rather than sleeping until woken: enough for this example,
/// whose futures never wait on I/O. A real job would use its async runtime's `block_on`.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// A future that is pending once, like an await on I/O that is not ready yet.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// One shard of raw `user,value` rows.
struct Shard {
    id: usize,
    lines: Vec<String>,
}

/// One transformed row.
struct Feature {
    user: u32,
    score: f64,
}

/// `user,value`, or `None` when either field does not parse.
fn parse_row(line: &str) -> Option<(u32, f64)> {
    let (user, value) = line.split_once(',')?;
    Some((user.trim().parse().ok()?, value.trim().parse().ok()?))
}

/// Why a shard could not be transformed.
#[derive(Debug)]
enum TransformError {
    Empty {
        shard: usize,
    },
    BadRow {
        shard: usize,
        line: usize,
        text: String,
    },
}

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransformError::Empty { shard } => write!(f, "shard {shard} has no rows"),
            TransformError::BadRow { shard, line, text } => {
                write!(f, "shard {shard}, line {line}: malformed row {text:?}")
            }
        }
    }
}

impl std::error::Error for TransformError {}
