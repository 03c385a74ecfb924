//! The textfile destination (`PUSHTIMER_TEXTFILE`) against a real node exporter (Debian's
//! `prometheus-node-exporter` 1.5.0, its textfile collector alone): real child jobs write the
//! file, the node exporter serves it, and the tests read what it serves: values, the job's
//! labels, HELP and TYPE, the run's records in their own files, `node_textfile_scrape_error 0`
//! and no gathering error (a series in two files, a family with two HELP texts or types: the
//! node exporter drops the series and logs it, and says so only in
//! `promhttp_metric_handler_errors_total{cause="gathering"}`). `promtool check metrics` takes
//! every file. Beside a real Pushgateway both get the same timings; a real Prometheus scraping
//! the node exporter with `honor_labels: true` fires the shipped rules for textfile jobs.
//! A path that cannot be written costs the job one warning naming the variable, and the
//! gateway beside it nothing; a write failing later is reported once, its recovery at info.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pushtimer_tests::tls::{TempDir, path_str};
use pushtimer_tests::{
    Gateway, JobRun, NodeExporter, NodePrometheus, PromQl, RunningJob, Sample, Scrape,
    assert_clean, assert_exit_job_complete, assert_unharmed_with_one_warning, poll_until,
    promtool_or_skip, repository, run_job, skip, spawn_job,
};

const EXIT_JOB: &str = env!("CARGO_BIN_EXE_exit_job");
const FAULT_JOB: &str = env!("CARGO_BIN_EXE_fault_job");
const PROMISE_JOB: &str = env!("CARGO_BIN_EXE_promise_job");

/// How long a server may take to show what a job wrote, or a job to say something on
/// stderr. An outer limit, never a measurement.
const WITHIN: Duration = Duration::from_secs(30);

/// The series the node exporter serves about itself and its collector, not read from a file.
fn own_series(sample: &Sample) -> bool {
    sample.name.starts_with("node_") || sample.name.starts_with("promhttp_")
}

/// The node exporter read every file and served every series it read: no file refused
/// (`node_textfile_scrape_error 0`), no series dropped at gathering (a duplicate, a HELP or a
/// TYPE inconsistent across files), nothing logged at `error`.
fn assert_served_whole(scrape: &Scrape, exporter: &NodeExporter) {
    assert_eq!(
        scrape.value("node_textfile_scrape_error", &[]),
        Some(0.0),
        "a file was refused: {}",
        exporter.log()
    );
    assert_eq!(
        scrape.value(
            "promhttp_metric_handler_errors_total",
            &[("cause", "gathering")]
        ),
        Some(0.0),
        "series were dropped: {}",
        exporter.log()
    );
    let log = exporter.log();
    assert!(!log.contains("level=error"), "{log}");
}

/// The names in `dir`, sorted: what a job left there (no temporary file, say).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// `promtool check metrics` takes `file` without a word (lint problems included); `None`
/// after saying so when promtool is not installed.
fn assert_promtool_takes(test: &str, file: &Path) -> Option<()> {
    let promtool = promtool_or_skip(test)?;
    let output = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::from(
            std::fs::File::open(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
        ))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{}: {said}", file.display());
    assert!(said.trim().is_empty(), "{}: {said}", file.display());
    Some(())
}

/// Runs `exit_job <how> 5` as `job`, writing to `path` (and whatever `extra` sets).
fn run_exit_job(how: &str, path: &Path, job: &str, extra: &[(&str, &str)]) -> JobRun {
    let mut env = vec![
        ("PUSHTIMER_TEXTFILE", path_str(path)),
        ("PUSHGATEWAY_JOB", job),
    ];
    env.extend_from_slice(extra);
    run_job(EXIT_JOB, &[how, "5"], &env)
}

/// The one value of `name` for `job`, with the other `labels`.
fn value(scrape: &Scrape, name: &str, job: &str, labels: &[(&str, &str)]) -> f64 {
    let mut all = vec![("job", job)];
    all.extend_from_slice(labels);
    scrape
        .value(name, &all)
        .unwrap_or_else(|| panic!("no single {name} {all:?}: {scrape:#?}"))
}

/// The run's records of `job` as served: exit code, completion, success (if any).
fn records(scrape: &Scrape, job: &str) -> (f64, f64, Option<f64>) {
    let completion = [("pushtimer_record", "last_completion")];
    let success = [("pushtimer_record", "last_success")];
    (
        value(scrape, "pushtimer_job_exit_code", job, &completion),
        value(
            scrape,
            "pushtimer_job_last_completion_timestamp_seconds",
            job,
            &completion,
        ),
        scrape.value(
            "pushtimer_job_last_success_timestamp_seconds",
            &[("job", job), success[0]],
        ),
    )
}

// --- 1. Alone: what the node exporter serves ------------------------------------------------

/// A job writing only to its textfile: the node exporter serves exactly the calls it made,
/// each series with `job` and the grouping labels, the HELP and TYPE of each family, the
/// run's own gauges, the time of the write, and the records from files of their own, each
/// series there with `pushtimer_record`. Nothing else is left in the directory, and promtool
/// takes every file.
#[test]
fn a_job_alone_is_served_with_its_labels_help_types_and_records() {
    let dir = TempDir::new("textfile_alone");
    let Some(exporter) = NodeExporter::start("textfile_alone", dir.path()) else {
        return;
    };
    let path = dir.path().join("nightly_etl.prom");
    let run = run_exit_job(
        "return",
        &path,
        "tf_alone",
        &[
            ("PUSHGATEWAY_GROUPING", "instance=host-a,shard=7"),
            ("PUSHTIMER_EXPECTED_INTERVAL", "1h"),
        ],
    );
    assert_clean(&run);
    assert_eq!(
        names(dir.path()),
        [
            "nightly_etl.last_completion.prom",
            "nightly_etl.last_success.prom",
            "nightly_etl.prom"
        ]
    );

    let scrape = exporter.scrape();
    assert_served_whole(&scrape, &exporter);
    let grouping = [("instance", "host-a"), ("shard", "7")];
    assert_exit_job_complete(&scrape, "tf_alone", &grouping);
    assert_eq!(scrape.types["exit_job_wait_seconds"], "summary");
    for sample in scrape.samples.iter().filter(|s| !own_series(s)) {
        for (name, expected) in [("job", "tf_alone"), ("instance", "host-a"), ("shard", "7")] {
            assert_eq!(
                sample.labels.get(name).map(String::as_str),
                Some(expected),
                "{sample:?}"
            );
        }
    }

    let start = value(
        &scrape,
        "pushtimer_job_start_timestamp_seconds",
        "tf_alone",
        &[],
    );
    let written = value(&scrape, "push_time_seconds", "tf_alone", &[]);
    let (exit_code, completed, succeeded) = records(&scrape, "tf_alone");
    assert_eq!(exit_code, 0.0);
    let succeeded = succeeded.expect("a success is recorded for exit code 0");
    assert!(start > 1.7e9 && start <= written, "{start} {written}");
    assert!(start <= completed, "{start} {completed}");
    assert!(
        (succeeded - completed).abs() < 1.0,
        "{succeeded} {completed}"
    );
    assert_eq!(
        value(
            &scrape,
            "pushtimer_job_expected_interval_seconds",
            "tf_alone",
            &[]
        ),
        3600.0
    );
    // The state's series carry no record label; the records' all do.
    for sample in scrape.samples.iter().filter(|s| !own_series(s)) {
        let record = sample.labels.get("pushtimer_record").map(String::as_str);
        let expected = match sample.name.as_str() {
            "pushtimer_job_exit_code" | "pushtimer_job_last_completion_timestamp_seconds" => {
                Some("last_completion")
            }
            "pushtimer_job_last_success_timestamp_seconds" => Some("last_success"),
            _ => None,
        };
        assert_eq!(record, expected, "{sample:?}");
    }
    for family in [
        "pushtimer_job_exit_code",
        "pushtimer_job_last_completion_timestamp_seconds",
        "pushtimer_job_last_success_timestamp_seconds",
        "push_time_seconds",
    ] {
        assert_eq!(scrape.types[family], "gauge", "{family}");
    }
    assert!(
        scrape.help["pushtimer_job_exit_code"].starts_with("Exit status of the last run"),
        "{:?}",
        scrape.help
    );
    assert!(
        scrape.help["push_time_seconds"].starts_with("Last Unix time pushtimer wrote"),
        "{:?}",
        scrape.help
    );
    // Every file was read.
    let files: Vec<&str> = scrape
        .find("node_textfile_mtime_seconds", &[])
        .iter()
        .filter_map(|s| s.labels.get("file").map(String::as_str))
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");

    for name in names(dir.path()) {
        if assert_promtool_takes("textfile_alone", &dir.path().join(name)).is_none() {
            return;
        }
    }
}

/// The records of a run's end live in files the next run's rounds never touch: after a
/// successful run and a failed one (`exit(3)`), the completion says 3 and is the later one,
/// and the last success is still the first run's, as it was.
#[test]
fn a_failed_run_records_its_exit_code_and_keeps_the_last_success() {
    let dir = TempDir::new("textfile_failed");
    let Some(exporter) = NodeExporter::start("textfile_failed", dir.path()) else {
        return;
    };
    let path = dir.path().join("etl.prom");
    assert_clean(&run_exit_job("return", &path, "tf_failed", &[]));
    let (_, first_completion, first_success) = records(&exporter.scrape(), "tf_failed");
    let first_success = first_success.expect("the first run succeeded");

    let run = run_exit_job("exit3", &path, "tf_failed", &[]);
    assert_eq!(run.status.code(), Some(3), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    let scrape = exporter.scrape();
    assert_served_whole(&scrape, &exporter);
    let (exit_code, completion, success) = records(&scrape, "tf_failed");
    assert_eq!(exit_code, 3.0);
    assert!(
        completion > first_completion,
        "{completion} {first_completion}"
    );
    assert_eq!(success, Some(first_success), "the last success stays");
    assert_eq!(
        names(dir.path()),
        [
            "etl.last_completion.prom",
            "etl.last_success.prom",
            "etl.prom"
        ]
    );
}

/// A run that ends before its first timed call (a bad input, a missing file: where most real
/// failures happen) still records its end in the textfile, as on the gateway: the exit hook is
/// registered before `main` when `PUSHTIMER_TEXTFILE` is set.
#[test]
fn a_run_that_ends_before_its_first_timed_call_records_its_end() {
    let dir = TempDir::new("textfile_early");
    let Some(exporter) = NodeExporter::start("textfile_early", dir.path()) else {
        return;
    };
    let path = dir.path().join("early.prom");
    let run = run_exit_job("early-exit2", &path, "tf_early", &[]);
    assert_eq!(run.status.code(), Some(2), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    let scrape = exporter.scrape();
    assert_served_whole(&scrape, &exporter);
    let (exit_code, completion, success) = records(&scrape, "tf_early");
    assert_eq!(exit_code, 2.0);
    assert!(completion > 0.0, "{completion}");
    assert_eq!(success, None, "exit code 2 is no success");
}

/// Several jobs of one host, each with its own file in the one directory: the same families
/// (the same function names, pushtimer's own gauges, the records) in every file, told apart
/// by `job`. The node exporter serves all of them, and drops none as a duplicate.
#[test]
fn jobs_of_one_host_each_write_their_own_file_and_never_clash() {
    let dir = TempDir::new("textfile_host");
    let Some(exporter) = NodeExporter::start("textfile_host", dir.path()) else {
        return;
    };
    let jobs = [
        ("tf_first", "first.prom", 5),
        ("tf_second", "second.prom", 3),
    ];
    for (job, file, calls) in jobs {
        let calls = calls.to_string();
        let path = dir.path().join(file);
        let run = run_job(
            EXIT_JOB,
            &["return", &calls],
            &[
                ("PUSHTIMER_TEXTFILE", path_str(&path)),
                ("PUSHGATEWAY_JOB", job),
            ],
        );
        assert_clean(&run);
    }
    assert_eq!(names(dir.path()).len(), 6, "{:?}", names(dir.path()));
    let scrape = exporter.scrape();
    assert_served_whole(&scrape, &exporter);
    for (job, _, calls) in jobs {
        let work = [("stage", "work"), ("outcome", "ok")];
        assert_eq!(
            value(&scrape, "exit_job_work_seconds_count", job, &work),
            f64::from(calls)
        );
        assert_eq!(
            value(&scrape, "exit_job_wait_seconds_sum", job, &[]),
            0.25 * f64::from(calls)
        );
        assert_eq!(records(&scrape, job).0, 0.0);
        assert!(records(&scrape, job).2.is_some(), "{job}");
        assert!(
            value(&scrape, "push_time_seconds", job, &[]) > 1.7e9,
            "{job}"
        );
    }
}

// --- 2. Beside a real Pushgateway ------------------------------------------------------------

/// The label set of a sample without `instance` (the gateway adds `instance=""`).
fn without_instance(sample: &Sample) -> BTreeMap<String, String> {
    let mut labels = sample.labels.clone();
    labels.remove("instance");
    labels
}

/// One job, the gateway and the textfile: each gets every call, and the same timings to the
/// last digit (the final state is rendered for each after the job's last call), and the same
/// records of its end.
#[test]
fn beside_a_real_pushgateway_both_get_the_same_timings() {
    let Some(gateway) = Gateway::start("textfile_beside_gateway") else {
        return;
    };
    let dir = TempDir::new("textfile_beside_gateway");
    let Some(exporter) = NodeExporter::start("textfile_beside_gateway", dir.path()) else {
        return;
    };
    let url = gateway.url();
    let run = run_exit_job(
        "return",
        &dir.path().join("both.prom"),
        "tf_both",
        &[("PUSHGATEWAY_URL", &url)],
    );
    assert_clean(&run);
    let pushed = gateway.scrape();
    let written = exporter.scrape();
    assert_served_whole(&written, &exporter);
    assert_exit_job_complete(&pushed, "tf_both", &[]);
    let timings: Vec<&Sample> = written
        .samples
        .iter()
        .filter(|s| s.name.starts_with("exit_job_") || s.name.starts_with("upload_"))
        .collect();
    assert!(timings.len() >= 8, "{timings:?}");
    for sample in timings {
        let labels = without_instance(sample);
        let twin: Vec<&Sample> = pushed
            .samples
            .iter()
            .filter(|s| s.name == sample.name && without_instance(s) == labels)
            .collect();
        assert_eq!(twin.len(), 1, "{sample:?} on the gateway: {twin:?}");
        assert_eq!(twin[0].value, sample.value, "{sample:?}");
    }
    let pushed_code = pushed.value(
        "pushtimer_job_exit_code",
        &[("job", "tf_both"), ("pushtimer_record", "last_completion")],
    );
    assert_eq!(pushed_code, Some(records(&written, "tf_both").0));
}

// --- 3. While the job runs -------------------------------------------------------------------

/// `fault_job until <dir>/stop` writing to `path` as `job`, with a round every 100 ms (later
/// values in `extra` win); the stop file ends it.
fn start_until(stop: &Path, path: &Path, job: &str, extra: &[(&str, &str)]) -> RunningJob {
    let mut env = vec![
        ("PUSHTIMER_TEXTFILE", path_str(path)),
        ("PUSHGATEWAY_JOB", job),
        ("PUSHGATEWAY_PUSH_INTERVAL", "100ms"),
        ("PUSHGATEWAY_TIMEOUT", "1s"),
    ];
    env.extend_from_slice(extra);
    spawn_job(FAULT_JOB, &["until", path_str(stop)], &env)
}

/// `fault_job`'s calls of `job` in `scrape`.
fn calls(scrape: &Scrape, job: &str) -> Option<f64> {
    scrape.value(
        "fault_job_work_seconds_count",
        &[("job", job), ("outcome", "ok")],
    )
}

/// The periodic rounds write while the job runs (not only at exit), and each replaces the
/// file whole, by a rename (the file's inode changes): every scrape, while the file is
/// rewritten every 100 ms, finds it parsed and holding the job's calls, through ten writes at
/// least (ten write times seen). At exit the file holds exactly the calls the job made.
#[test]
fn rounds_write_while_the_job_runs_and_every_scrape_sees_a_whole_file() {
    let dir = TempDir::new("textfile_rounds");
    let Some(exporter) = NodeExporter::start("textfile_rounds", dir.path()) else {
        return;
    };
    let work = TempDir::new("textfile_rounds_stop");
    let stop = work.path().join("stop");
    let path = dir.path().join("rounds.prom");
    let job = start_until(&stop, &path, "tf_rounds", &[]);
    let mut write_times: Vec<f64> = Vec::new();
    let mut inodes: BTreeSet<u64> = BTreeSet::new();
    let mut scrapes = 0;
    poll_until(
        WITHIN,
        || {
            if let Ok(metadata) = std::fs::metadata(&path) {
                inodes.insert(metadata.ino());
            }
            let scrape = exporter.scrape();
            scrapes += 1;
            if let Some(written) = scrape.value("push_time_seconds", &[("job", "tf_rounds")]) {
                assert_served_whole(&scrape, &exporter);
                assert!(
                    calls(&scrape, "tf_rounds").is_some_and(|n| n > 0.0),
                    "scrape {scrapes}: the file lacks the calls: {scrape:#?}"
                );
                if !write_times.contains(&written) {
                    write_times.push(written);
                }
            }
            write_times.len()
        },
        |seen| *seen >= 10,
    );
    assert!(write_times.len() >= 10, "{write_times:?}");
    // A file rewritten in place keeps its inode; each rename brings a new one (an inode freed
    // by one rename may come back two writes later, so only "more than one" is certain).
    assert!(
        inodes.len() > 1,
        "the file was rewritten in place: {inodes:?}"
    );
    let (run, made) = job.stop_until(&stop);
    assert!(run.warnings().is_empty(), "{run:#?}");
    let scrape = exporter.scrape();
    assert_served_whole(&scrape, &exporter);
    assert_eq!(calls(&scrape, "tf_rounds"), Some(made));
    assert_eq!(names(dir.path()).len(), 3, "{:?}", names(dir.path()));
}

/// A write that fails while the job runs (its directory removed) is reported once, through the
/// lane's reporter, naming the file; once the directory is back, the next round writes and
/// `works again` is said at `info`: two lines in all. The job ends as it would have, and the
/// file holds every call.
#[test]
fn a_write_failing_later_is_reported_once_and_its_recovery_at_info() {
    let dir = TempDir::new("textfile_later");
    let sub = dir.path().join("collector");
    std::fs::create_dir(&sub).expect("the collector directory");
    let path = sub.join("later.prom");
    let stop = dir.path().join("stop");
    let job = start_until(&stop, &path, "tf_later", &[]);
    let exists = poll_until(WITHIN, || path.exists(), |exists| *exists);
    assert!(exists, "no round wrote {}", path.display());
    std::fs::remove_dir_all(&sub).expect("remove the collector directory");
    let warned = job.wait_for_stderr("No such file or directory", WITHIN);
    std::fs::create_dir(&sub).expect("the collector directory, again");
    assert!(warned, "the failed write was not reported");
    assert!(
        job.wait_for_stderr("works again", WITHIN),
        "the recovery was not reported"
    );
    let (run, made) = job.stop_until(&stop);
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains(" pushtimer: "))
        .collect();
    assert_eq!(said.len(), 2, "one warning, one recovery: {run:#?}");
    let shown = path.display().to_string();
    assert!(
        said[0].starts_with("WARN pushtimer: ")
            && said[0].contains(&shown)
            && said[0].contains("No such file or directory"),
        "{said:?}"
    );
    assert!(
        said[1].starts_with("INFO pushtimer: ")
            && said[1].contains(&format!("pushing to {shown} works again")),
        "{said:?}"
    );
    let text = std::fs::read_to_string(&path).expect("the final state");
    assert_eq!(calls(&Scrape::parse(&text), "tf_later"), Some(made));
}

/// SIGTERM: the final write and the completion record (exit code 143, 128 + SIGTERM) are made
/// before the job ends by the signal; with an hour's interval, they can only come from the
/// last act. No success is recorded.
#[test]
fn sigterm_makes_the_final_write_and_records_its_end() {
    let dir = TempDir::new("textfile_sigterm");
    let path = dir.path().join("term.prom");
    let never = dir.path().join("never");
    let job = spawn_job(
        PROMISE_JOB,
        &["until", path_str(&never), "0"],
        &[
            ("PUSHTIMER_TEXTFILE", path_str(&path)),
            ("PUSHGATEWAY_JOB", "tf_term"),
            ("PUSHGATEWAY_PUSH_INTERVAL", "1h"),
        ],
    );
    assert!(
        job.wait_for_stderr("running", WITHIN),
        "the job did not start"
    );
    assert!(!path.exists(), "a round wrote before the signal");
    job.signal("TERM");
    let run = job.wait();
    assert_eq!(run.status.signal(), Some(15), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    let read = |name: &str| {
        let text = std::fs::read_to_string(dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        Scrape::parse(&text)
    };
    let state = read("term.prom");
    let work = state.value(
        "promise_job_work_seconds_count",
        &[("job", "tf_term"), ("outcome", "ok")],
    );
    assert!(work.is_some_and(|calls| calls >= 1.0), "{state:#?}");
    let completion = read("term.last_completion.prom");
    assert_eq!(
        completion.value(
            "pushtimer_job_exit_code",
            &[("job", "tf_term"), ("pushtimer_record", "last_completion")]
        ),
        Some(143.0)
    );
    assert_eq!(
        names(dir.path()),
        ["term.last_completion.prom", "term.prom"]
    );
}

// --- 4. Paths that cannot be written -----------------------------------------------------------

/// Runs `exit_job exit3 5` as `job` with `PUSHTIMER_TEXTFILE=path` beside `gateway` (through
/// `binary`, the job itself unless given): exit code 3, one warning naming the variable and the
/// path, and the gateway gets everything.
fn assert_refused_beside(gateway: &Gateway, path: &Path, job: &str, wrapper: &[&str]) {
    let url = gateway.url();
    let env = [
        ("PUSHGATEWAY_URL", url.as_str()),
        ("PUSHGATEWAY_JOB", job),
        ("PUSHTIMER_TEXTFILE", path_str(path)),
    ];
    let run = match wrapper.split_first() {
        None => run_job(EXIT_JOB, &["exit3", "5"], &env),
        Some((binary, args)) => {
            let mut all = args.to_vec();
            all.extend([EXIT_JOB, "exit3", "5"]);
            run_job(binary, &all, &env)
        }
    };
    assert_unharmed_with_one_warning(&run, 3, &["PUSHTIMER_TEXTFILE", path_str(path)]);
    assert!(
        run.stdout.contains("recorded 5 calls"),
        "the job ran: {run:#?}"
    );
    assert_exit_job_complete(&gateway.scrape(), job, &[]);
}

/// A FIFO at `path`, made with `mkfifo(1)` (this crate has no unsafe code).
fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo(1) runs");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A missing directory, a directory as the target, a FIFO as the target (a write that opened
/// it would wait for a reader forever; the job ends as usual) and a path without a file name:
/// each costs the job one warning naming `PUSHTIMER_TEXTFILE` and the path, its exit code is
/// its own, the gateway beside gets every call, and nothing is created or replaced.
#[test]
fn a_bad_path_costs_one_warning_and_the_gateway_beside_gets_everything() {
    let Some(gateway) = Gateway::start("textfile_bad_path") else {
        return;
    };
    let dir = TempDir::new("textfile_bad_path");
    let target_dir = dir.path().join("a_directory.prom");
    std::fs::create_dir(&target_dir).expect("a directory");
    let fifo = dir.path().join("fifo.prom");
    mkfifo(&fifo);
    let no_name = PathBuf::from(format!("{}/", dir.path().display()));
    let cases = [
        ("tf_missing_dir", dir.path().join("missing/etl.prom")),
        ("tf_dir_target", target_dir.clone()),
        ("tf_fifo_target", fifo.clone()),
        ("tf_no_file_name", no_name),
    ];
    for (job, path) in cases {
        assert_refused_beside(&gateway, &path, job, &[]);
    }
    assert_eq!(names(dir.path()), ["a_directory.prom", "fifo.prom"]);
    assert!(names(&target_dir).is_empty());
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata(&fifo).expect("the FIFO").file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced");
}

/// A directory the job may not write to (mode 0555): one warning, the gateway beside gets
/// everything, nothing is created. Root writes there anyway, so when the tests run as root
/// the job runs as `nobody` (with `setpriv`), for whom the mode holds; without `setpriv`, or
/// with a job binary `nobody` cannot run, the test is skipped, saying so.
#[test]
fn a_read_only_directory_costs_one_warning_and_the_gateway_beside_gets_everything() {
    use std::os::unix::fs::PermissionsExt;
    let test = "textfile_read_only";
    let Some(gateway) = Gateway::start(test) else {
        return;
    };
    let dir = TempDir::new(test);
    let read_only = dir.path().join("read_only");
    std::fs::create_dir(&read_only).expect("the directory");
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555))
        .expect("chmod 0555");
    let probe = read_only.join("probe");
    let privileged = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    let wrapper: &[&str] = if privileged {
        let runs = Command::new(nobody[0])
            .args(&nobody[1..])
            .args(["test", "-x", EXIT_JOB])
            .status()
            .is_ok_and(|status| status.success());
        if !runs {
            skip(
                test,
                "the tests run as root, for whom mode 0555 does not stop a write, and setpriv \
                 cannot run the job as nobody",
                "run the tests as another user, or install util-linux's setpriv and make the \
                 target directory readable by nobody",
            );
            return;
        }
        &nobody
    } else {
        &[]
    };
    assert_refused_beside(
        &gateway,
        &read_only.join("etl.prom"),
        "tf_read_only",
        wrapper,
    );
    assert!(names(&read_only).is_empty(), "{:?}", names(&read_only));
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o755))
        .expect("chmod 0755");
}

/// A name the collector ignores (not `*.prom`): one warning saying so, naming the variable,
/// and the file is written all the same, its records beside it under names ignored alike;
/// the node exporter serves none of it.
#[test]
fn a_name_the_collector_ignores_is_written_with_one_warning() {
    let dir = TempDir::new("textfile_not_prom");
    let Some(exporter) = NodeExporter::start("textfile_not_prom", dir.path()) else {
        return;
    };
    let path = dir.path().join("etl.txt");
    let run = run_exit_job(
        "return",
        &path,
        "tf_not_prom",
        &[("PUSHGATEWAY_GROUPING", "instance=host-b")],
    );
    assert_unharmed_with_one_warning(&run, 0, &["PUSHTIMER_TEXTFILE", path_str(&path), ".prom"]);
    let text = std::fs::read_to_string(&path).expect("the state file");
    let written = Scrape::parse(&text);
    assert_exit_job_complete(&written, "tf_not_prom", &[("instance", "host-b")]);
    assert_eq!(
        names(dir.path()),
        ["etl.txt", "etl.txt.last_completion", "etl.txt.last_success"]
    );
    let scrape = exporter.scrape();
    assert_served_whole(&scrape, &exporter);
    assert!(
        scrape.samples.iter().all(own_series),
        "{:?}",
        scrape.samples
    );
}

// --- 5. The shipped rules ----------------------------------------------------------------------

/// The expression of the alert `name` in the shipped `pushtimer-rules.yml`.
fn rule(name: &str) -> String {
    use yaml_rust2::YamlLoader;
    let path = repository().join("deploy/prometheus/pushtimer-rules.yml");
    let text = std::fs::read_to_string(&path).expect("the rules");
    let docs = YamlLoader::load_from_str(&text).expect("the rules parse");
    docs[0]["groups"]
        .as_vec()
        .into_iter()
        .flatten()
        .flat_map(|group| group["rules"].as_vec().into_iter().flatten())
        .find(|rule| rule["alert"].as_str() == Some(name))
        .and_then(|rule| rule["expr"].as_str())
        .unwrap_or_else(|| panic!("no alert {name}"))
        .to_owned()
}

/// A real Prometheus scraping the node exporter with `honor_labels: true` (the scrape config
/// of `docs/textfile.md`) and the shipped `pushtimer-rules.yml`: `PushtimerJobFailed` fires for
/// the failed textfile job alone; and `PushtimerJobStuck`'s expression, with its 30 minutes
/// made 0, finds the job killed by SIGKILL mid-run alone (its state file holds a start and no
/// completion is recorded), not the jobs that ended: the records and the write time are where
/// the rules look for them, with the labels they join on.
#[test]
fn the_shipped_rules_work_for_textfile_jobs() {
    let test = "textfile_rules";
    let dir = TempDir::new(test);
    let Some(exporter) = NodeExporter::start(test, dir.path()) else {
        return;
    };
    let rules = repository().join("deploy/prometheus/pushtimer-rules.yml");
    let Some(prometheus) = NodePrometheus::start(test, &exporter, &[&rules]) else {
        return;
    };
    assert_clean(&run_exit_job(
        "return",
        &dir.path().join("ok.prom"),
        "tf_rule_ok",
        &[],
    ));
    let run = run_exit_job(
        "exit3",
        &dir.path().join("failed.prom"),
        "tf_rule_failed",
        &[],
    );
    assert_eq!(run.status.code(), Some(3), "{run:#?}");
    let stop = dir.path().join("never");
    let killed_path = dir.path().join("killed.prom");
    let killed = start_until(&stop, &killed_path, "tf_rule_killed", &[]);
    let written = poll_until(WITHIN, || killed_path.exists(), |exists| *exists);
    assert!(written, "no round of the killed job wrote");
    killed.signal("KILL");
    let _ = killed.wait();

    let jobs = |points: &[pushtimer_tests::Point]| -> Vec<String> {
        let mut jobs: Vec<String> = points.iter().map(|p| p.labels["job"].clone()).collect();
        jobs.sort();
        jobs
    };
    let firing = prometheus.query_until(
        "ALERTS{alertname=\"PushtimerJobFailed\",alertstate=\"firing\"}",
        WITHIN,
        |points| !points.is_empty(),
    );
    assert_eq!(jobs(&firing), ["tf_rule_failed"], "{firing:?}");
    let exit_code = prometheus.query("pushtimer_job_exit_code{job=\"tf_rule_failed\"}");
    assert_eq!(exit_code.len(), 1, "{exit_code:?}");
    assert_eq!(exit_code[0].labels["pushtimer_record"], "last_completion");
    assert_eq!(
        exit_code[0].labels["instance"],
        format!("127.0.0.1:{}", exporter.port()),
        "the host is the instance"
    );

    let stuck = rule("PushtimerJobStuck");
    assert!(stuck.contains("> 1800"), "{stuck}");
    let stuck = stuck.replace("> 1800", "> 0");
    let found = prometheus.query_until(&stuck, WITHIN, |points| !points.is_empty());
    assert_eq!(jobs(&found), ["tf_rule_killed"], "{found:?}");
}
