//! The job itself: when this run started, how long it has run, and, at its end, when it
//! completed, with which exit code, and whether it succeeded.
//!
//! The run's own gauges (start, duration, expected interval) go with every push of the job's
//! group. The end of a run is recorded in two groups of its own, below the job's group, so
//! that no push of a later run can erase them (a `PUT` replaces a whole group):
//!
//! - `.../pushtimer_record/last_completion`: `pushtimer_job_last_completion_timestamp_seconds`
//!   and `pushtimer_job_exit_code`, pushed at the end of every run;
//! - `.../pushtimer_record/last_success`: `pushtimer_job_last_success_timestamp_seconds`,
//!   pushed only at the end of a run whose exit code is 0.
//!
//! Names are not prefixed by `PUSHTIMER_NAMESPACE` (so one set of alert rules serves every
//! job); the constant labels of `PUSHTIMER_LABELS` apply (so alerts carry e.g. `team`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::family::{Family, Kind, Metric, Value};

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

/// Every metric name this module produces (a user metric with one of them is left out).
pub(crate) const NAMES: [&str; 6] = [
    START,
    DURATION,
    EXPECTED_INTERVAL,
    COMPLETION,
    SUCCESS,
    EXIT_CODE,
];

/// This run.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// Unix time the program started (see `startup.rs`).
    start: f64,
    expected_interval: Option<Duration>,
    labels: Vec<(String, String)>,
}

impl Run {
    /// This process's run, started now; `labels` are the constant labels of every series.
    pub(crate) fn new(labels: Vec<(String, String)>, expected_interval: Option<Duration>) -> Run {
        Run {
            start: now(),
            expected_interval,
            labels,
        }
    }

    /// The run as started at `start` (Unix time), when the program's start is known (see
    /// `lifecycle/startup.rs`); else as started when it was made.
    pub(crate) fn started_at(mut self, start: Option<f64>) -> Run {
        if let Some(start) = start {
            self.start = start;
        }
        self
    }

    /// Start, duration so far and the expected interval: pushed with the job's group.
    pub(crate) fn families(&self) -> Vec<Family> {
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
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(start: f64, expected_interval: Option<Duration>) -> Run {
        Run {
            start,
            expected_interval,
            labels: vec![("team".to_owned(), "ml".to_owned())],
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

    #[test]
    fn the_jobs_group_gets_start_duration_and_the_expected_interval() {
        let run = run(1_000.0, Some(Duration::from_secs(3_600)));
        let before = now();
        let families = shown(&run.families());
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
            ]
        );
    }

    /// Without `PUSHTIMER_EXPECTED_INTERVAL` there is no interval gauge; a start in the future
    /// (the clock was set back) is a duration of 0, not a negative one.
    #[test]
    fn no_interval_no_interval_gauge_and_the_duration_is_never_negative() {
        let start = now() + 1e9;
        let families = shown(&run(start, None).families());
        assert_eq!(
            families,
            [
                (START.to_owned(), Kind::Gauge, team(), start),
                (DURATION.to_owned(), Kind::Gauge, team(), 0.0),
            ]
        );
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
