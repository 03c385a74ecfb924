//! The job itself: when this run started, how long it has run, and, at its end, when it
//! completed, with which exit code, and whether it succeeded.
//!
//! The run's own gauges (start, duration, expected interval, what the process has used: peak
//! memory, CPU time, its memory limit, storage I/O, read in `resources.rs`; and
//! `pushtimer_job_info`, the program's version and pushtimer's) go with every push of the
//! job's group. The end of a run is recorded in two groups of its own, below the job's group, so
//! that no push of a later run can erase them (a `PUT` replaces a whole group):
//!
//! - `.../pushtimer_record/last_completion`: `pushtimer_job_last_completion_timestamp_seconds`
//!   and `pushtimer_job_exit_code`, pushed at the end of every run;
//! - `.../pushtimer_record/last_success`: `pushtimer_job_last_success_timestamp_seconds`,
//!   pushed only at the end of a run whose exit code is 0.
//!
//! Names are not prefixed by `PUSHTIMER_NAMESPACE` (so one set of alert rules serves every
//! job); the constant labels of `PUSHTIMER_LABELS` apply (so alerts carry e.g. `team`).

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::family::{Family, Kind, Metric, Value};
use crate::store::changes;
use crate::store::resources::Resources;

/// The grouping label of the records' groups.
pub(crate) const RECORD_LABEL: &str = "pushtimer_record";
/// The group holding the last completion and exit code.
pub(crate) const LAST_COMPLETION: &str = "last_completion";
/// The group holding the last success.
pub(crate) const LAST_SUCCESS: &str = "last_success";

const START: &str = "pushtimer_job_start_timestamp_seconds";
const DURATION: &str = "pushtimer_job_duration_seconds";
const EXPECTED_INTERVAL: &str = "pushtimer_job_expected_interval_seconds";
const COMPLETION: &str = "pushtimer_job_last_completion_timestamp_seconds";
const SUCCESS: &str = "pushtimer_job_last_success_timestamp_seconds";
const EXIT_CODE: &str = "pushtimer_job_exit_code";
const MAX_RESIDENT_MEMORY: &str = "pushtimer_job_max_resident_memory_bytes";
const CPU: &str = "pushtimer_job_cpu_seconds_total";
const MEMORY_LIMIT: &str = "pushtimer_job_memory_limit_bytes";
const IO_READ: &str = "pushtimer_job_io_read_bytes_total";
const IO_WRITE: &str = "pushtimer_job_io_write_bytes_total";
const INFO: &str = "pushtimer_job_info";

/// The label of the CPU time's two series, `user` and `system`.
const MODE: &str = "mode";
/// The labels of [`INFO`]: the program's version (when known) and pushtimer's.
const VERSION: &str = "version";
const PUSHTIMER_VERSION: &str = "pushtimer_version";
/// This crate's version, the value of [`PUSHTIMER_VERSION`].
const OWN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version of the program's binary crate (its `CARGO_PKG_VERSION`), as the code `#[timed]`
/// generates in that crate hands it over on the first call of one of its timed functions (see
/// `record/call_site.rs`); unset until then, and for good when no timed function is in the
/// binary crate itself.
static BINARY_CRATE_VERSION: OnceLock<&'static str> = OnceLock::new();

/// A timed function of the binary crate ran for the first time: `version` is that crate's.
/// Cold (once per call site); never blocks beyond another thread's store of the same value,
/// runs no user code. The next push carries it: a version learnt after the first push is news.
pub(crate) fn binary_crate_version(version: &'static str) {
    if BINARY_CRATE_VERSION.set(version).is_ok() {
        changes::mark_other();
    }
}

/// Every metric name this module produces (a user metric with one of them is left out).
pub(crate) const NAMES: [&str; 12] = [
    START,
    DURATION,
    EXPECTED_INTERVAL,
    COMPLETION,
    SUCCESS,
    EXIT_CODE,
    MAX_RESIDENT_MEMORY,
    CPU,
    MEMORY_LIMIT,
    IO_READ,
    IO_WRITE,
    INFO,
];

/// This run.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// Unix time the program started (see `startup.rs`).
    start: f64,
    expected_interval: Option<Duration>,
    labels: Vec<(String, String)>,
    /// The program's version as configured (`PUSHTIMER_VERSION`, else `Config::version`),
    /// checked; it wins over the binary crate's.
    version: Option<String>,
}

impl Run {
    /// This process's run, started now; `labels` are the constant labels of every series.
    pub(crate) fn new(labels: Vec<(String, String)>, expected_interval: Option<Duration>) -> Run {
        Run {
            start: now(),
            expected_interval,
            labels,
            version: None,
        }
    }

    /// The run of a program whose version is configured as `version` (`PUSHTIMER_VERSION`,
    /// else `Config::version`, checked); `None` leaves it to the binary crate's.
    pub(crate) fn with_version(mut self, version: Option<String>) -> Run {
        self.version = version;
        self
    }

    /// The run as started at `start` (Unix time), when the program's start is known (see
    /// `lifecycle/startup.rs`); else as started when it was made.
    pub(crate) fn started_at(mut self, start: Option<f64>) -> Run {
        if let Some(start) = start {
            self.start = start;
        }
        self
    }

    /// Start, duration so far, the expected interval, what the process has used so far and
    /// the versions: pushed with the job's group. Reads the process's resources (a few kernel
    /// pseudo-files and `getrusage`, never blocking).
    pub(crate) fn families(&self) -> Vec<Family> {
        self.families_with(&Resources::read(), BINARY_CRATE_VERSION.get().copied())
    }

    /// [`families`](Self::families), with these resources and this binary crate's version.
    fn families_with(&self, resources: &Resources, binary_crate: Option<&str>) -> Vec<Family> {
        let mut families = vec![
            self.gauge(
                START,
                "Unix time the current (or last) run of this job started.",
                self.start,
            ),
            self.gauge(
                DURATION,
                "Seconds the current run has taken so far; the whole run once it has ended.",
                (now() - self.start).max(0.0),
            ),
        ];
        if let Some(interval) = self.expected_interval {
            families.push(self.gauge(
                EXPECTED_INTERVAL,
                "How often this job is expected to succeed, in seconds (PUSHTIMER_EXPECTED_INTERVAL).",
                interval.as_secs_f64(),
            ));
        }
        families.extend(self.resource_families(resources));
        families.push(self.info(binary_crate));
        families
    }

    /// `pushtimer_job_info`, always 1: the program's version (the configured one, else the
    /// binary crate's; the label is left out when neither is known) and pushtimer's. Our
    /// labels win over constant labels of the same names (PUSHTIMER_LABELS), as `mode` does:
    /// a series with a label twice would make the gateway refuse the whole push. A constant
    /// `version` stays when the program's version is unknown.
    fn info(&self, binary_crate: Option<&str>) -> Family {
        let version = self.version.as_deref().or(binary_crate);
        let ours = |name: &str| name == PUSHTIMER_VERSION || (version.is_some() && name == VERSION);
        let mut labels: Vec<(String, String)> = self
            .labels
            .iter()
            .filter(|(name, _)| !ours(name))
            .cloned()
            .collect();
        if let Some(version) = version {
            labels.push((VERSION.to_owned(), version.to_owned()));
        }
        labels.push((PUSHTIMER_VERSION.to_owned(), OWN_VERSION.to_owned()));
        Family::new(
            INFO,
            "Always 1: the program's version (version, when known) and pushtimer's (pushtimer_version).",
            Kind::Gauge,
        )
        .with(Metric {
            labels,
            value: Value::Gauge(1.0),
            timestamp_ms: None,
        })
    }

    /// What the process has used, each family only when its value could be read.
    fn resource_families(&self, resources: &Resources) -> Vec<Family> {
        // Bytes as f64: exact below 2^53 (8 PiB).
        let bytes = |value: Option<u64>| value.map(|value| value as f64);
        let mut families = Vec::new();
        if let Some(peak) = bytes(resources.max_resident_bytes) {
            families.push(self.gauge(
                MAX_RESIDENT_MEMORY,
                "Peak resident memory of this run's process so far, in bytes.",
                peak,
            ));
        }
        if let Some(cpu) = resources.cpu {
            // Our `mode` label wins over a constant label of that name (PUSHTIMER_LABELS): a
            // series with the label twice would make the gateway refuse the whole push.
            let labels = |mode: &str| {
                let mut labels: Vec<(String, String)> = self
                    .labels
                    .iter()
                    .filter(|(name, _)| name != MODE)
                    .cloned()
                    .collect();
                labels.push((MODE.to_owned(), mode.to_owned()));
                labels
            };
            let series = |mode: &str, seconds: f64| Metric {
                labels: labels(mode),
                value: Value::Counter(seconds),
                timestamp_ms: None,
            };
            families.push(
                Family::new(
                    CPU,
                    "CPU time this run's process has used so far, in seconds, by mode (user, system).",
                    Kind::Counter,
                )
                .with(series("user", cpu.user))
                .with(series("system", cpu.system)),
            );
        }
        if let Some(limit) = bytes(resources.memory_limit_bytes) {
            families.push(self.gauge(
                MEMORY_LIMIT,
                "Memory limit of this run's cgroup, in bytes.",
                limit,
            ));
        }
        if let Some(read) = bytes(resources.io_read_bytes) {
            families.push(self.counter(
                IO_READ,
                "Bytes this run's process has read from storage so far (not from the page cache).",
                read,
            ));
        }
        if let Some(written) = bytes(resources.io_write_bytes) {
            families.push(self.counter(
                IO_WRITE,
                "Bytes this run's process has written to storage so far.",
                written,
            ));
        }
        families
    }

    /// The record of the run's end: its time, and its exit code when it is known.
    pub(crate) fn completion(&self, exit_code: Option<i32>) -> Vec<Family> {
        let mut families = vec![self.gauge(
            COMPLETION,
            "Unix time the last run of this job ended, whatever its outcome.",
            now(),
        )];
        if let Some(code) = exit_code {
            families.push(self.gauge(
                EXIT_CODE,
                "Exit status of the last run: 0 for success, the n of exit(n), 1 when main returned Err, 101 for a panic.",
                f64::from(code),
            ));
        }
        families
    }

    /// The record of a successful end.
    pub(crate) fn success(&self) -> Vec<Family> {
        vec![self.gauge(
            SUCCESS,
            "Unix time the last successful run (exit code 0) of this job ended.",
            now(),
        )]
    }

    fn gauge(&self, name: &str, help: &str, value: f64) -> Family {
        Family::new(name, help, Kind::Gauge).with(Metric {
            labels: self.labels.clone(),
            value: Value::Gauge(value),
            timestamp_ms: None,
        })
    }

    fn counter(&self, name: &str, help: &str, value: f64) -> Family {
        Family::new(name, help, Kind::Counter).with(Metric {
            labels: self.labels.clone(),
            value: Value::Counter(value),
            timestamp_ms: None,
        })
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::resources::Cpu;

    fn run(start: f64, expected_interval: Option<Duration>) -> Run {
        Run {
            start,
            expected_interval,
            labels: vec![("team".to_owned(), "ml".to_owned())],
            version: None,
        }
    }

    /// Each family's name, its type, and its one gauge's labels and value.
    fn shown(families: &[Family]) -> Vec<(String, Kind, Vec<String>, f64)> {
        families
            .iter()
            .map(|family| {
                assert_eq!(family.metrics.len(), 1, "{family:?}");
                let metric = &family.metrics[0];
                let labels = metric
                    .labels
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                let Value::Gauge(value) = metric.value else {
                    panic!("not a gauge: {metric:?}");
                };
                (family.name.clone(), family.kind, labels, value)
            })
            .collect()
    }

    fn team() -> Vec<String> {
        vec!["team=ml".to_owned()]
    }

    /// `pushtimer_job_info` as [`shown`] shows it, with these labels.
    fn info(labels: &[&str]) -> (String, Kind, Vec<String>, f64) {
        let labels = labels.iter().map(|label| (*label).to_owned()).collect();
        (INFO.to_owned(), Kind::Gauge, labels, 1.0)
    }

    /// `pushtimer_version="<this crate's version>"`, as [`shown`] shows it.
    fn own() -> String {
        format!("pushtimer_version={}", env!("CARGO_PKG_VERSION"))
    }

    #[test]
    fn the_jobs_group_gets_start_duration_and_the_expected_interval() {
        let run = run(1_000.0, Some(Duration::from_secs(3_600)));
        let before = now();
        let families = shown(&run.families_with(&Resources::default(), None));
        let after = now();
        let duration = families[1].3;
        assert!(
            (before - 1_000.0..=after - 1_000.0).contains(&duration),
            "{duration}"
        );
        assert_eq!(
            families,
            [
                (START.to_owned(), Kind::Gauge, team(), 1_000.0),
                (DURATION.to_owned(), Kind::Gauge, team(), duration),
                (EXPECTED_INTERVAL.to_owned(), Kind::Gauge, team(), 3_600.0),
                info(&["team=ml", &own()]),
            ]
        );
    }

    /// Without `PUSHTIMER_EXPECTED_INTERVAL` there is no interval gauge; a start in the future
    /// (the clock was set back) is a duration of 0, not a negative one.
    #[test]
    fn no_interval_no_interval_gauge_and_the_duration_is_never_negative() {
        let start = now() + 1e9;
        let families = shown(&run(start, None).families_with(&Resources::default(), None));
        assert_eq!(
            families,
            [
                (START.to_owned(), Kind::Gauge, team(), start),
                (DURATION.to_owned(), Kind::Gauge, team(), 0.0),
                info(&["team=ml", &own()]),
            ]
        );
    }

    /// Each resource that could be read is a family of its own, after start and duration: the
    /// peak and the limit gauges, CPU time and I/O counters; HELP names the unit.
    #[test]
    fn the_resources_read_are_pushed_with_the_jobs_group() {
        let resources = Resources {
            max_resident_bytes: Some(3 << 30),
            cpu: Some(Cpu {
                user: 12.5,
                system: 0.25,
            }),
            memory_limit_bytes: Some(4 << 30),
            io_read_bytes: Some(4096),
            io_write_bytes: Some(0),
        };
        let families = run(1_000.0, None).families_with(&resources, None);
        let names: Vec<&str> = families.iter().map(|family| family.name.as_str()).collect();
        assert_eq!(
            names,
            [
                START,
                DURATION,
                MAX_RESIDENT_MEMORY,
                CPU,
                MEMORY_LIMIT,
                IO_READ,
                IO_WRITE,
                INFO
            ]
        );
        let team = || ("team".to_owned(), "ml".to_owned());
        let metric = |labels: Vec<(String, String)>, value| Metric {
            labels,
            value,
            timestamp_ms: None,
        };
        assert_eq!(
            families[2].metrics,
            [metric(vec![team()], Value::Gauge(3_221_225_472.0))]
        );
        assert_eq!(families[3].kind, Kind::Counter);
        let mode = |mode: &str| ("mode".to_owned(), mode.to_owned());
        assert_eq!(
            families[3].metrics,
            [
                metric(vec![team(), mode("user")], Value::Counter(12.5)),
                metric(vec![team(), mode("system")], Value::Counter(0.25)),
            ]
        );
        assert_eq!(
            families[4].metrics,
            [metric(vec![team()], Value::Gauge(4_294_967_296.0))]
        );
        assert_eq!(
            (families[5].kind, &families[5].metrics),
            (
                Kind::Counter,
                &vec![metric(vec![team()], Value::Counter(4096.0))]
            )
        );
        assert_eq!(
            (families[6].kind, &families[6].metrics),
            (
                Kind::Counter,
                &vec![metric(vec![team()], Value::Counter(0.0))]
            )
        );
        for family in &families[2..7] {
            let unit = match family.name.as_str() {
                CPU => "in seconds",
                IO_READ | IO_WRITE => "Bytes ",
                _ => "in bytes",
            };
            assert!(family.help.contains(unit), "{family:?}");
            assert!(NAMES.contains(&family.name.as_str()), "{}", family.name);
        }
        // What cannot be read is absent, each on its own.
        let only_io = Resources {
            io_write_bytes: Some(1),
            ..Resources::default()
        };
        let names: Vec<String> = run(1_000.0, None)
            .families_with(&only_io, None)
            .into_iter()
            .map(|family| family.name)
            .collect();
        assert_eq!(names, [START, DURATION, IO_WRITE, INFO]);
    }

    /// A constant label `mode` (PUSHTIMER_LABELS) gives way to the CPU time's own on its
    /// series, never a series with `mode` twice; the other families keep it.
    #[test]
    fn the_cpu_times_mode_wins_over_a_constant_label_of_that_name() {
        let run = Run {
            start: 1_000.0,
            expected_interval: None,
            labels: vec![
                ("mode".to_owned(), "batch".to_owned()),
                ("team".to_owned(), "ml".to_owned()),
            ],
            version: None,
        };
        let resources = Resources {
            max_resident_bytes: Some(1),
            cpu: Some(Cpu {
                user: 1.0,
                system: 2.0,
            }),
            ..Resources::default()
        };
        let families = run.families_with(&resources, None);
        let labels = |family: &Family| -> Vec<Vec<String>> {
            family
                .metrics
                .iter()
                .map(|metric| {
                    metric
                        .labels
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect()
                })
                .collect()
        };
        assert_eq!(labels(&families[2]), [["mode=batch", "team=ml"]]);
        assert_eq!(
            labels(&families[3]),
            [["team=ml", "mode=user"], ["team=ml", "mode=system"]]
        );
    }

    /// What `families()` pushes comes from this process: on Linux, at least a peak and CPU
    /// time.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_jobs_group_reads_this_process() {
        let families = run(1_000.0, None).families();
        let names: Vec<&str> = families.iter().map(|family| family.name.as_str()).collect();
        assert!(names.contains(&MAX_RESIDENT_MEMORY), "{names:?}");
        assert!(names.contains(&CPU), "{names:?}");
    }

    #[test]
    fn the_completion_is_now_with_the_exit_code_when_known() {
        let run = run(1_000.0, Some(Duration::from_secs(60)));
        let before = now();
        let with_code = shown(&run.completion(Some(101)));
        let without = shown(&run.completion(None));
        let after = now();
        let at = with_code[0].3;
        assert!((before..=after).contains(&at), "{at}");
        assert_eq!(
            with_code,
            [
                (COMPLETION.to_owned(), Kind::Gauge, team(), at),
                (EXIT_CODE.to_owned(), Kind::Gauge, team(), 101.0),
            ]
        );
        let at = without[0].3;
        assert!((before..=after).contains(&at), "{at}");
        assert_eq!(without, [(COMPLETION.to_owned(), Kind::Gauge, team(), at)]);
    }

    #[test]
    fn the_success_is_now() {
        let before = now();
        let success = shown(&run(1_000.0, None).success());
        let after = now();
        let at = success[0].3;
        assert!((before..=after).contains(&at), "{at}");
        assert_eq!(success, [(SUCCESS.to_owned(), Kind::Gauge, team(), at)]);
    }

    /// `pushtimer_job_info` is 1, a gauge, with pushtimer's version always and the program's
    /// when known: the configured one (`PUSHTIMER_VERSION`, `Config::version`) over the binary
    /// crate's; without either, no `version` label at all (never an empty or a made-up one).
    #[test]
    fn the_info_gauge_carries_the_programs_version_and_pushtimers() {
        let families = |run: &Run, binary_crate| {
            let all = run.families_with(&Resources::default(), binary_crate);
            let info: Vec<Family> = all.into_iter().filter(|f| f.name == INFO).collect();
            shown(&info)
        };
        let plain = run(1_000.0, None);
        assert_eq!(families(&plain, None), [info(&["team=ml", &own()])]);
        assert_eq!(
            families(&plain, Some("2.3.4")),
            [info(&["team=ml", "version=2.3.4", &own()])]
        );
        let configured = run(1_000.0, None).with_version(Some("2024.06-rc1".to_owned()));
        for binary_crate in [None, Some("2.3.4")] {
            assert_eq!(
                families(&configured, binary_crate),
                [info(&["team=ml", "version=2024.06-rc1", &own()])]
            );
        }
        let family = plain.info(None);
        assert_eq!(family.kind, Kind::Gauge);
        assert!(family.help.contains("version"), "{family:?}");
        assert!(NAMES.contains(&INFO));
        assert!(!OWN_VERSION.is_empty());
    }

    /// Constant labels named `version` or `pushtimer_version` (PUSHTIMER_LABELS) give way to
    /// the info gauge's own, never a series with a label twice; a constant `version` stays when
    /// the program's version is unknown.
    #[test]
    fn the_info_gauges_labels_win_over_constant_labels_of_those_names() {
        let run = Run {
            start: 1_000.0,
            expected_interval: None,
            labels: vec![
                ("version".to_owned(), "constant".to_owned()),
                ("team".to_owned(), "ml".to_owned()),
                ("pushtimer_version".to_owned(), "constant".to_owned()),
            ],
            version: None,
        };
        assert_eq!(
            shown(&[run.info(Some("2.3.4"))]),
            [info(&["team=ml", "version=2.3.4", &own()])]
        );
        assert_eq!(
            shown(&[run.info(None)]),
            [info(&["version=constant", "team=ml", &own()])]
        );
    }

    /// The versions are in the job's group only: the records of a run's end never carry them.
    #[test]
    fn the_records_carry_no_info_gauge() {
        let run = run(1_000.0, None).with_version(Some("1.0".to_owned()));
        for family in run.completion(Some(0)).iter().chain(&run.success()) {
            assert_ne!(family.name, INFO);
        }
    }

    /// The binary crate's version is taken once (the first timed call of that crate) and
    /// rendered from then on; a later one does not replace it. The only test that sets it:
    /// it is process-wide.
    #[test]
    fn the_binary_crates_version_is_taken_once_and_rendered() {
        binary_crate_version("7.7.7-test");
        binary_crate_version("8.8.8-test");
        assert_eq!(BINARY_CRATE_VERSION.get().copied(), Some("7.7.7-test"));
        let families = run(1_000.0, None).families();
        let info = families.iter().find(|f| f.name == INFO).expect("the info");
        assert!(
            info.metrics[0]
                .labels
                .contains(&("version".to_owned(), "7.7.7-test".to_owned())),
            "{info:?}"
        );
    }

    #[test]
    fn this_process_started_before_now() {
        let run = Run::new(Vec::new(), None);
        assert!(
            run.start <= now() && run.start > now() - 3600.0,
            "{}",
            run.start
        );
    }
}
