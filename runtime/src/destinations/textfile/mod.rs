//! A file for the node exporter's textfile collector (`PUSHTIMER_TEXTFILE`): what Prometheus
//! recommends for a batch job tied to one machine (a cron job on a host), scraped with the
//! host's node exporter instead of pushed to a gateway.
//!
//! Every round (periodic or a flush) writes the whole state, as a scrape would see it, and the
//! last act at exit writes the final state and the run's records. Each file is written
//! atomically: a temporary file is created exclusively in the same directory, under a name the
//! collector ignores (it reads only `*.prom`), written, and renamed over the target, so a scrape
//! sees the old file or the new one, never half of one. The target path itself is never
//! opened: it could be a FIFO or a device, and `rename()` over a path never blocks.
//!
//! What the node exporter requires of the files (read in its source, `collector/textfile.go`):
//! no sample may carry a timestamp (the whole file is refused), a family that several files
//! hold must have the same HELP and TYPE in each, and the same series in two files is refused
//! at gather time. So every series carries the job's identity, `job` and the grouping labels,
//! as remote write does: several jobs of one host each write their own file, and their series
//! never clash. The timestamps of user collectors are taken out.
//!
//! The run's records go to files of their own beside the state file, as they go to groups of
//! their own on the gateway, so that no round of the next run erases them:
//! `<name>.last_completion.prom` (completion time, exit code) at the end of every run and
//! `<name>.last_success.prom` at the end of a run with exit code 0, where `<name>` is the state
//! file's name without `.prom`; each series there carries `pushtimer_record` as on the
//! gateway. The state file also carries `push_time_seconds`, the time it was written, as the
//! gateway does for a group: the shipped alert rules (`PushtimerJobStuck` reads it) then serve
//! textfile jobs unchanged.
//!
//! In this folder: the destination (here), writing a file atomically (`atomic.rs`) and the
//! names of the files written (`names.rs`).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::diagnostics;
use crate::encode::text;
use crate::error::PushError;
use crate::model::check::Problem;
use crate::model::family::{Family, Kind, Metric, Value};
use crate::push::destination::{Destination, LastAct, Round};
use crate::push::lane::{AnyLane, Lane};
use crate::settings::checked::PushSettings;
use crate::settings::env;
use crate::store::run;
use crate::transport::http::Exchange;
use crate::user_file::kind;

mod atomic;
mod names;
#[cfg(test)]
mod tests;

use atomic::*;
use names::*;

/// The most one file may hold: 16 MiB. The node exporter parses every file of its directory
/// at every scrape; 16 MiB is about 150,000 series of a typical job, far more than a textfile
/// is meant for (a job that large belongs on a gateway or remote write). A larger state is not
/// written (the file keeps the last state written) and the failure is reported; rendering
/// stops at the limit, so no more than that is held for it either.
pub(crate) const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The suffix the textfile collector reads; any other file is ignored.
const SUFFIX: &str = ".prom";

/// The gauge of the time the state file was written, named as the Pushgateway names its own
/// gauge of a group's last push, so that the shipped rules read it alike.
const WRITE_TIME: &str = "push_time_seconds";
const WRITE_TIME_HELP: &str = "Last Unix time pushtimer wrote this job's state to its textfile (what the Pushgateway's push_time_seconds is for a group).";

/// How many names a temporary file is tried under before a write gives up: each is new to
/// this process, so another one exists only when left by an earlier process with the same pid.
const TEMP_ATTEMPTS: u32 = 8;

/// Numbers the temporary files of this process, so that no two writes share one.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The node exporter's textfile, as a destination: where the state and the records go, and the
/// labels every series gets.
#[derive(Debug)]
pub(crate) struct Textfile {
    /// The state file, absolute (a later `chdir` of the job moves nothing).
    path: PathBuf,
    /// The records' files beside it: completion, then success.
    completion: PathBuf,
    success: PathBuf,
    /// `job` and the grouping labels; they win over a series' own label of the same name.
    target: Vec<(String, String)>,
    /// A user metric named like the write-time gauge was reported (once per run).
    write_time_clash_reported: AtomicBool,
    /// Series that became duplicates under the job's labels were reported (once per run).
    duplicates_reported: AtomicBool,
}

/// The textfile's lane, when `PUSHTIMER_TEXTFILE` is set; an error names the variable and the
/// path that make it unusable.
pub(crate) fn build(
    settings: &PushSettings,
    job: &str,
    problems: &mut Vec<String>,
) -> Option<Result<Box<dyn AnyLane>, PushError>> {
    let path = settings.textfile.as_ref()?;
    let built = Textfile::new(path, job, &settings.grouping, problems)
        .map(|textfile| Lane::boxed(textfile, settings.interval, settings.timeout));
    Some(built)
}

impl Textfile {
    /// The textfile at `path` for the job `job` and its grouping labels, checked as far as
    /// can be before the first write: a file name, a directory that exists and takes a new
    /// file, and no directory, FIFO or device at the target. A name the collector ignores
    /// (not `*.prom`) is a problem in `problems`, and still written.
    pub(crate) fn new(
        path: &Path,
        job: &str,
        grouping: &[(String, String)],
        problems: &mut Vec<String>,
    ) -> Result<Textfile, PushError> {
        let given = path.display().to_string();
        let unusable = |what: String| PushError::InvalidConfig {
            setting: env::TEXTFILE,
            reason: format!("{given}: {what}"),
        };
        let Some(name) = file_name(path) else {
            return Err(unusable("the path has no file name".into()));
        };
        let absolute = std::path::absolute(path)
            .map_err(|e| unusable(format!("cannot be made absolute ({e})")))?;
        let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        match std::fs::metadata(&dir) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => return Err(unusable(format!("{} is not a directory", dir.display()))),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(unusable(format!(
                    "the directory {} does not exist",
                    dir.display()
                )));
            }
            Err(e) => {
                return Err(unusable(format!(
                    "the directory {} cannot be used ({e})",
                    dir.display()
                )));
            }
        }
        // `stat`, not `open`: it never blocks, whatever the path names.
        match std::fs::metadata(&absolute) {
            Ok(metadata) if !metadata.is_file() => {
                return Err(unusable(format!(
                    "is {}, not a regular file; it is not replaced",
                    kind(&metadata)
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(unusable(format!("cannot be checked ({e})"))),
        }
        // Whether the directory takes a new file is known only by making one (permissions,
        // a read-only file system, an ACL, root's privileges): a temporary one, removed at once.
        let probe = Temp::create(&dir, &name).map_err(|e| {
            unusable(format!(
                "the directory {} does not take new files ({e})",
                dir.display()
            ))
        })?;
        probe.discard();
        if !ends_with_suffix(&name) {
            problems.push(format!(
                "{}={given} does not end in {SUFFIX}: the node exporter's textfile collector \
                 reads only *{SUFFIX} files and will ignore it; it is written anyway",
                env::TEXTFILE
            ));
        }
        let mut target = vec![("job".to_owned(), job.to_owned())];
        for (name, value) in grouping {
            env::set_pair(&mut target, name, value);
        }
        Ok(Textfile {
            completion: dir.join(record_name(&name, run::LAST_COMPLETION)),
            success: dir.join(record_name(&name, run::LAST_SUCCESS)),
            path: absolute,
            target,
            write_time_clash_reported: AtomicBool::new(false),
            duplicates_reported: AtomicBool::new(false),
        })
    }

    /// Writes the state: `families` (as rendered) with the job's labels, and the write time;
    /// what the encoder left out goes to `problems`.
    fn write_state(
        &self,
        mut families: Vec<Family>,
        problems: &mut Vec<Problem>,
    ) -> Result<(), PushError> {
        let before = families.len();
        families.retain(|family| family.name != WRITE_TIME);
        if families.len() != before && !self.write_time_clash_reported.swap(true, Ordering::Relaxed)
        {
            diagnostics::warn(format!(
                "the metric {WRITE_TIME} in pushtimer::registry() is left out of {}: pushtimer \
                 writes its own there (the time of the write); rename it",
                self.path.display()
            ));
        }
        families.push(write_time());
        let text = self.exposition(families, None, problems)?;
        write_atomically(&self.path, text.as_bytes(), false)
    }

    /// Writes one record's file: `families` with the job's labels and `pushtimer_record`.
    fn write_record(
        &self,
        path: &Path,
        record: &'static str,
        families: Vec<Family>,
        problems: &mut Vec<Problem>,
    ) -> Result<(), PushError> {
        let text = self.exposition(families, Some((run::RECORD_LABEL, record)), problems)?;
        // A record is written once per run and must outlive a crash of the host: synced.
        write_atomically(path, text.as_bytes(), true)
    }

    /// The text exposition of `families` as the collector takes it: each series with the
    /// job's labels (and `extra`), no timestamps, no duplicate series; at most
    /// [`MAX_FILE_BYTES`]. What the encoder left out goes to `problems`.
    fn exposition(
        &self,
        mut families: Vec<Family>,
        extra: Option<(&str, &str)>,
        problems: &mut Vec<Problem>,
    ) -> Result<String, PushError> {
        let mut text = String::new();
        for family in &mut families {
            if self.relabel(family, extra) {
                let left_out = remove_duplicates(family);
                if left_out > 0 && !self.duplicates_reported.swap(true, Ordering::Relaxed) {
                    diagnostics::warn(format!(
                        "{left_out} series of {} left out of {}: with the job's labels ({}) \
                         they are the same series as another one; take those labels out of \
                         the metric",
                        family.name,
                        self.path.display(),
                        self.target_names(),
                    ));
                }
            }
            // One family at a time, so that no more than the limit (and one family) is ever
            // rendered.
            problems.extend(text::encode(std::slice::from_ref(family), &mut text));
            if text.len() > MAX_FILE_BYTES {
                return Err(PushError::Transport {
                    reason: format!(
                        "the metrics are larger than {} MiB, the most a textfile is written \
                         with; {} keeps what was last written (the gateway or remote write \
                         suit a job this large)",
                        MAX_FILE_BYTES / (1024 * 1024),
                        self.path.display()
                    ),
                });
            }
        }
        Ok(text)
    }

    /// Gives every series of `family` the job's labels (winning over its own of the same
    /// name, as the gateway's grouping labels do) and `extra`, leaves out labels with an empty
    /// value (an empty label is no label to Prometheus) and timestamps (the collector refuses a
    /// file that has one). True when a series' own label was replaced or left out, which may
    /// have made two series one.
    fn relabel(&self, family: &mut Family, extra: Option<(&str, &str)>) -> bool {
        let mut collided = false;
        let set = |labels: &mut Vec<(String, String)>, name: &str, value: &str| {
            let replaced = labels.iter().any(|(existing, _)| existing == name);
            env::set_pair(labels, name, value);
            replaced
        };
        for metric in &mut family.metrics {
            let labels = &mut metric.labels;
            for (name, value) in extra.iter().copied() {
                collided |= set(labels, name, value);
            }
            for (name, value) in &self.target {
                collided |= set(labels, name, value);
            }
            let before = labels.len();
            labels.retain(|(_, value)| !value.is_empty());
            collided |= labels.len() != before;
            labels.sort();
            metric.timestamp_ms = None;
        }
        collided
    }

    /// The names of the job's labels, for messages.
    fn target_names(&self) -> String {
        let names: Vec<&str> = self.target.iter().map(|(name, _)| name.as_str()).collect();
        names.join(", ")
    }
}

/// The textfile as a destination: every round writes the whole state, as a scrape would see
/// it; the last act writes the final state and the run's records, each in its own file.
impl Destination for Textfile {
    type Memory = ();
    const THREAD: &'static str = "pushtimer-textfile";
    const TAKES_CHANGES: bool = false;

    fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// Nothing: a path holds no credential, and redacting it (an `@` in a directory name)
    /// would only make it unreadable.
    fn base(&self) -> &str {
        ""
    }

    fn send_state(&self, round: &Round<'_>, _flush: bool, _memory: &mut ()) -> Option<Exchange> {
        let mut problems = Vec::new();
        let written = self.write_state(round.render_now(), &mut problems);
        round.report(problems);
        Some(exchange(written))
    }

    /// The final state, then the records, each in its own file; every one is tried, and the
    /// result is the first failure.
    fn send_last(&self, round: &Round<'_>, last: LastAct) -> Exchange {
        let mut problems = Vec::new();
        let mut result = self.write_state(round.render_now(), &mut problems);
        let (completion, success) = round.registry.record_families(last.exit_code);
        let written = self.write_record(
            &self.completion,
            run::LAST_COMPLETION,
            completion,
            &mut problems,
        );
        result = result.and(written);
        if let Some(success) = success {
            let written =
                self.write_record(&self.success, run::LAST_SUCCESS, success, &mut problems);
            result = result.and(written);
        }
        round.report(problems);
        exchange(result)
    }

    fn last_act_name(&self) -> &'static str {
        "final write"
    }
}

fn exchange(result: Result<(), PushError>) -> Exchange {
    Exchange {
        result,
        retry_after: None,
    }
}

/// Takes out every series of `family` whose labels an earlier one has; how many.
fn remove_duplicates(family: &mut Family) -> usize {
    let mut seen = HashSet::new();
    let before = family.metrics.len();
    // Only after labels were replaced or left out (see `relabel`): the copies are rare.
    family
        .metrics
        .retain(|metric| seen.insert(metric.labels.clone()));
    before.saturating_sub(family.metrics.len())
}

/// The gauge of the time of this write.
fn write_time() -> Family {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    Family::new(WRITE_TIME, WRITE_TIME_HELP, Kind::Gauge).with(Metric::new(&[], Value::Gauge(now)))
}
