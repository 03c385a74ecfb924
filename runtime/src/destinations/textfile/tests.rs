//! The textfile's unit tests.

use super::*;

use std::time::{Duration, Instant};

use crate::push::destination::Outside;
use crate::push::lane::{Action, LaneState};
use crate::settings::checked::Naming;
use crate::store::registry::Registry;
use crate::store::run::Run;

/// A fresh directory of this test's own, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("pushtimer-textfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    /// The names in the directory, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn grouping() -> Vec<(String, String)> {
    vec![("instance".to_owned(), "w1".to_owned())]
}

fn textfile(path: &Path) -> Textfile {
    let mut problems = Vec::new();
    let textfile = Textfile::new(path, "etl", &grouping(), &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    textfile
}

fn refusal(path: &Path) -> String {
    match Textfile::new(path, "etl", &[], &mut Vec::new()) {
        Ok(textfile) => panic!("{} was accepted: {textfile:?}", path.display()),
        Err(error) => {
            assert!(
                matches!(error, PushError::InvalidConfig { setting, .. } if setting == env::TEXTFILE),
                "{error:?}"
            );
            error.to_string()
        }
    }
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// One round of the textfile's lane, as its thread makes it.
fn round(lane: &Lane<Textfile>, registry: &Registry, action: Action) -> Result<(), PushError> {
    let outside = Outside {
        now: Instant::now(),
        recorded: false,
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut state = LaneState::default();
    lane.round(registry, action, deadline, outside, &mut state)
        .result
}

fn registry() -> Registry {
    let registry = Registry::new(Naming::default(), Run::new(Vec::new(), None));
    let (series, _) = registry.summary("etl_load_seconds", "Loads.", &[], &[], &[], None);
    series.observe(Duration::from_millis(250));
    registry
}

/// The sample lines of an exposition (not `#` lines).
fn samples(text: &str) -> Vec<&str> {
    text.lines().filter(|line| !line.starts_with('#')).collect()
}

#[test]
fn a_path_that_cannot_be_written_is_refused_naming_the_variable_and_the_path() {
    let dir = Dir::new("refused");
    let file = dir.0.join("plain");
    std::fs::write(&file, "").unwrap();
    let fifo = dir.0.join("fifo.prom");
    mkfifo(&fifo);
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.0.join("missing/etl.prom"), "does not exist"),
        (file.join("etl.prom"), "is not a directory"),
        (dir.0.clone(), "is a directory, not a regular file"),
        // Refused by `stat` alone: nothing ever waits for a writer.
        (fifo.clone(), "is a FIFO (named pipe), not a regular file"),
        (PathBuf::from("/dev/null"), "is a device"),
        (
            PathBuf::from(format!("{}/", dir.0.display())),
            "no file name",
        ),
        (dir.0.join("."), "no file name"),
        (dir.0.join(".."), "no file name"),
        (PathBuf::from(""), "no file name"),
    ];
    for (path, what) in cases {
        let shown = refusal(&path);
        assert!(shown.contains(env::TEXTFILE), "{shown}");
        assert!(shown.contains(&path.display().to_string()), "{shown}");
        assert!(shown.contains(what), "{what}: {shown}");
    }
    // The FIFO is still a FIFO, and nothing was left in the directory.
    assert_eq!(dir.names(), ["fifo.prom", "plain"]);
}

#[cfg(unix)]
#[test]
fn a_directory_that_takes_no_new_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new("read-only");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root writes anyway, so the case holds only for other users; root's is /proc, where
    // no one creates a file.
    let writable = File::create(dir.0.join("probe")).is_ok();
    let path = if writable {
        PathBuf::from("/proc/etl.prom")
    } else {
        dir.0.join("etl.prom")
    };
    let shown = refusal(&path);
    assert!(shown.contains("does not take new files"), "{shown}");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_name_the_collector_ignores_is_a_warning_and_still_written() {
    let dir = Dir::new("not-prom");
    let path = dir.0.join("etl.txt");
    let mut problems = Vec::new();
    let textfile = Textfile::new(&path, "etl", &[], &mut problems).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(env::TEXTFILE), "{problems:?}");
    assert!(problems[0].contains(".prom"), "{problems:?}");
    textfile.write_state(Vec::new(), &mut Vec::new()).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains(WRITE_TIME));
    assert_eq!(
        textfile.completion,
        dir.0.join("etl.txt.last_completion"),
        "ignored alike"
    );
}

/// A temporary file is beside its target, hidden and not `*.prom` (the collector never
/// reads it), new for each write, and removed unless it was renamed.
#[test]
fn a_temporary_file_is_hidden_ignored_by_the_collector_and_removed_unless_renamed() {
    let dir = Dir::new("temp");
    let name = OsString::from("etl.prom");
    let first = Temp::create(&dir.0, &name).unwrap();
    let second = Temp::create(&dir.0, &name).unwrap();
    assert_ne!(first.path, second.path);
    for temp in [&first, &second] {
        assert_eq!(temp.path.parent(), Some(dir.0.as_path()));
        let shown = temp
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let pid = std::process::id();
        assert!(shown.starts_with(&format!(".etl.prom.{pid}.")), "{shown}");
        assert!(shown.ends_with(".tmp"), "{shown}");
    }
    assert_eq!(dir.names().len(), 2);
    drop(first);
    second.discard();
    assert!(dir.names().is_empty(), "{:?}", dir.names());
    // A long name is shortened, not refused by the file system.
    let long = OsString::from(format!("{}.prom", "é".repeat(120)));
    let temp = Temp::create(&dir.0, &long).unwrap();
    assert!(temp.path.file_name().unwrap().len() < 160);
}

#[test]
fn the_records_are_named_after_the_state_file() {
    let name = |text: &str, record: &str| record_name(&OsString::from(text), record);
    assert_eq!(
        name("nightly_etl.prom", run::LAST_COMPLETION),
        "nightly_etl.last_completion.prom"
    );
    assert_eq!(
        name("nightly_etl.prom", run::LAST_SUCCESS),
        "nightly_etl.last_success.prom"
    );
    assert_eq!(name("a.b.prom", "x"), "a.b.x.prom");
    assert_eq!(name(".prom", "x"), ".x.prom");
    assert_eq!(name("etl", "x"), "etl.x");
}

#[test]
fn only_a_name_after_the_last_slash_is_a_file_name() {
    for path in ["a/", "a/.", "a/..", "", "/", ".", ".."] {
        assert_eq!(file_name(Path::new(path)), None, "{path}");
    }
    assert_eq!(
        file_name(Path::new("/a/b.prom")),
        Some(OsString::from("b.prom"))
    );
    assert_eq!(
        file_name(Path::new("b.prom")),
        Some(OsString::from("b.prom"))
    );
}

#[test]
fn a_relative_path_is_made_absolute_once() {
    let textfile = textfile(Path::new("pushtimer-textfile-relative.prom"));
    assert!(textfile.path.is_absolute(), "{:?}", textfile.path);
    assert_eq!(
        textfile.path,
        std::env::current_dir()
            .unwrap()
            .join("pushtimer-textfile-relative.prom")
    );
}

/// A round writes the whole state with the job's labels on every series and the time of the
/// write, by a rename: the file is replaced, never rewritten in place, and nothing else is
/// left in the directory.
#[test]
fn a_round_writes_the_state_atomically_with_the_jobs_labels() {
    let dir = Dir::new("round");
    let path = dir.0.join("etl.prom");
    let lane = Lane::new(
        textfile(&path),
        Duration::from_secs(15),
        Duration::from_secs(5),
    );
    let registry = registry();
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    round(&lane, &registry, Action::Periodic).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("# TYPE etl_load_seconds summary\n"), "{text}");
    assert!(text.contains("# HELP etl_load_seconds Loads.\n"), "{text}");
    assert!(
        text.contains("etl_load_seconds_count{instance=\"w1\",job=\"etl\"} 1\n"),
        "{text}"
    );
    for line in samples(&text) {
        assert!(line.contains("job=\"etl\""), "{line}");
        assert!(line.contains("instance=\"w1\""), "{line}");
    }
    let written = samples(&text)
        .into_iter()
        .find_map(|line| line.strip_prefix("push_time_seconds{instance=\"w1\",job=\"etl\"} "))
        .unwrap_or_else(|| panic!("no write time: {text}"));
    let written: f64 = written.parse().unwrap();
    assert!(written >= before.floor(), "{written} {before}");
    assert!(
        text.contains("pushtimer_job_start_timestamp_seconds{"),
        "{text}"
    );
    assert!(!text.contains(run::RECORD_LABEL), "{text}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let first = std::fs::metadata(&path).unwrap();
        assert_eq!(first.permissions().mode() & 0o777, 0o644);
        round(&lane, &registry, Action::Push).unwrap();
        let second = std::fs::metadata(&path).unwrap();
        assert_ne!(first.ino(), second.ino(), "replaced by a rename");
    }
    assert_eq!(dir.names(), ["etl.prom"]);
}

/// The last act writes the final state and the records beside it; the success only for
/// exit code 0, so a failed run leaves the last success of an earlier run in place.
#[test]
fn the_last_act_writes_the_records_in_files_of_their_own() {
    let dir = Dir::new("last");
    let path = dir.0.join("etl.prom");
    let registry = registry();
    let last = |code| {
        let lane = Lane::new(
            textfile(&path),
            Duration::from_secs(15),
            Duration::from_secs(5),
        );
        round(&lane, &registry, Action::Last(LastAct { exit_code: code })).unwrap();
    };
    last(Some(0));
    assert_eq!(
        dir.names(),
        [
            "etl.last_completion.prom",
            "etl.last_success.prom",
            "etl.prom"
        ]
    );
    let read = |name: &str| std::fs::read_to_string(dir.0.join(name)).unwrap();
    let completion = read("etl.last_completion.prom");
    assert!(
        completion.contains(
            "pushtimer_job_exit_code{instance=\"w1\",job=\"etl\",pushtimer_record=\"last_completion\"} 0\n"
        ),
        "{completion}"
    );
    assert!(
        completion.contains("pushtimer_job_last_completion_timestamp_seconds{"),
        "{completion}"
    );
    let success = read("etl.last_success.prom");
    assert!(
        success.contains("pushtimer_job_last_success_timestamp_seconds{instance=\"w1\",job=\"etl\",pushtimer_record=\"last_success\"} "),
        "{success}"
    );
    assert!(read("etl.prom").contains("etl_load_seconds_count{"));

    last(Some(3));
    assert!(read("etl.last_completion.prom").contains("pushtimer_record=\"last_completion\"} 3\n"));
    assert_eq!(
        read("etl.last_success.prom"),
        success,
        "the last success stays"
    );
    assert_eq!(dir.names().len(), 3, "{:?}", dir.names());
}

/// A gauge of 1 with these labels, and a timestamp unless `timestamp_ms` is 0.
fn gauge(labels: &[(&str, &str)], timestamp_ms: i64) -> Metric {
    let mut metric = Metric::new(labels, Value::Gauge(1.0));
    metric.timestamp_ms = (timestamp_ms != 0).then_some(timestamp_ms);
    metric
}

fn family(name: &str, metrics: Vec<Metric>) -> Family {
    let mut family = Family::new(name, "Help.", Kind::Gauge);
    family.metrics = metrics;
    family
}

/// The job's labels win over a series' own, empty values are no labels, timestamps go (the
/// collector refuses a file with one), and two series made one by the job's labels are
/// written once (the collector refuses a duplicate).
#[test]
fn the_jobs_labels_win_timestamps_go_and_no_series_is_written_twice() {
    let dir = Dir::new("labels");
    let mut problems = Vec::new();
    let grouping = vec![
        ("instance".to_owned(), "w1".to_owned()),
        ("shard".to_owned(), String::new()),
    ];
    let textfile = Textfile::new(&dir.0.join("etl.prom"), "etl", &grouping, &mut problems).unwrap();
    let families = vec![
        family(
            "user_gauge",
            vec![
                gauge(&[("job", "a"), ("stage", "x")], 1_700_000_000_000),
                gauge(&[("job", "b"), ("stage", "x")], 0),
                gauge(&[("shard", "7"), ("stage", "y")], 0),
            ],
        ),
        family("plain", vec![gauge(&[], 0)]),
    ];
    let mut left_out = Vec::new();
    let text = textfile.exposition(families, None, &mut left_out).unwrap();
    assert!(left_out.is_empty(), "{left_out:?}");
    assert_eq!(
        samples(&text),
        [
            "user_gauge{instance=\"w1\",job=\"etl\",stage=\"x\"} 1",
            "user_gauge{instance=\"w1\",job=\"etl\",stage=\"y\"} 1",
            "plain{instance=\"w1\",job=\"etl\"} 1",
        ]
    );
    assert!(textfile.duplicates_reported.load(Ordering::Relaxed));
}

/// A family the encoder cannot write (a user collector's, with a name that is no metric name)
/// is left out of the file and handed back to be reported; the rest is written.
#[test]
fn what_the_encoder_leaves_out_is_handed_back() {
    let dir = Dir::new("left-out");
    let textfile = textfile(&dir.0.join("etl.prom"));
    let families = vec![
        family("bad-name", vec![gauge(&[], 0)]),
        family("good", vec![gauge(&[], 0)]),
    ];
    let mut left_out = Vec::new();
    let text = textfile.exposition(families, None, &mut left_out).unwrap();
    assert_eq!(samples(&text), ["good{instance=\"w1\",job=\"etl\"} 1"]);
    let names: Vec<&str> = left_out.iter().map(|p| p.family.as_str()).collect();
    assert_eq!(names, ["bad-name"]);
}

/// A user metric with the write time's name would make the family appear twice (a file
/// the collector refuses): it is left out, pushtimer's own is written.
#[test]
fn a_user_metric_named_like_the_write_time_is_left_out() {
    let dir = Dir::new("write-time");
    let path = dir.0.join("etl.prom");
    let textfile = textfile(&path);
    textfile
        .write_state(
            vec![family(WRITE_TIME, vec![gauge(&[], 0)])],
            &mut Vec::new(),
        )
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.matches("# TYPE push_time_seconds").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("push_time_seconds{instance=\"w1\",job=\"etl\"} 1\n"));
    assert!(textfile.write_time_clash_reported.load(Ordering::Relaxed));
}

/// A state larger than the limit is not written: the file keeps the last state, and no
/// temporary file is left.
#[test]
fn a_state_over_the_limit_is_not_written_and_the_last_state_stays() {
    let dir = Dir::new("limit");
    let path = dir.0.join("etl.prom");
    let textfile = textfile(&path);
    textfile.write_state(Vec::new(), &mut Vec::new()).unwrap();
    let kept = std::fs::read_to_string(&path).unwrap();
    let mut large = family("large", vec![gauge(&[], 0)]);
    large.help = "h".repeat(MAX_FILE_BYTES);
    let error = textfile
        .write_state(vec![large], &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("larger than 16 MiB"), "{error}");
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), kept);
    assert_eq!(dir.names(), ["etl.prom"]);
}

/// A write that fails later (the directory removed, a FIFO put at the target) is an error
/// naming what failed, leaves no temporary file and replaces nothing; once the cause is
/// gone, the next write works.
#[test]
fn a_write_that_fails_later_is_an_error_and_leaves_nothing_behind() {
    let dir = Dir::new("later");
    let path = dir.0.join("etl.prom");
    let textfile = textfile(&path);
    std::fs::remove_dir_all(&dir.0).unwrap();
    let error = textfile
        .write_state(Vec::new(), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cannot create a temporary file in"),
        "{error}"
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    textfile.write_state(Vec::new(), &mut Vec::new()).unwrap();

    std::fs::remove_file(&path).unwrap();
    mkfifo(&path);
    let error = textfile
        .write_state(Vec::new(), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("is a FIFO (named pipe)"), "{error}");
    assert_eq!(dir.names(), ["etl.prom"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&path).unwrap().file_type().is_fifo());
    }
}
