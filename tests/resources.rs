//! What a run pushes about its process's use of the machine, against a real Pushgateway: a
//! peak resident memory at least what the job touched, CPU time for a job that burns CPU, I/O
//! counters where the kernel gives them, the memory limit exactly as the cgroup's file says (or
//! none when there is none), with their HELP and TYPE, in the job's own group.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use pushtimer_tests::{Gateway, JobRun, Scrape, run_job};

const RESOURCES_JOB: &str = env!("CARGO_BIN_EXE_resources_job");

const MIB: f64 = 1024.0 * 1024.0;

const PEAK: &str = "pushtimer_job_max_resident_memory_bytes";
const CPU: &str = "pushtimer_job_cpu_seconds_total";
const LIMIT: &str = "pushtimer_job_memory_limit_bytes";
const IO_READ: &str = "pushtimer_job_io_read_bytes_total";
const IO_WRITE: &str = "pushtimer_job_io_write_bytes_total";

/// The value of `name` with these labels in `job`'s own group (no `pushtimer_record`); `None`
/// when there is none, a panic when there are several.
fn value(scrape: &Scrape, name: &str, job: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut all = vec![("job", job)];
    all.extend_from_slice(labels);
    let found = scrape.find(name, &all);
    assert!(
        found
            .iter()
            .all(|s| !s.labels.contains_key("pushtimer_record")),
        "{name} in a record's group: {found:?}"
    );
    match found.as_slice() {
        [] => None,
        [one] => Some(one.value),
        more => panic!("{} series of {name}: {more:?}", more.len()),
    }
}

fn finished(run: &JobRun) {
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    assert!(run.stdout.contains("done"), "{run:#?}");
}

/// A job that touched 128 MiB pushes a peak of at least that (and not absurdly more), CPU time
/// by mode with the user's above 0 after it burnt 300 ms (and above the system's for a job that
/// only burns CPU), and I/O counters exactly when this
/// machine's kernel gives them; each with its TYPE and a HELP naming its unit.
#[test]
fn a_runs_peak_memory_cpu_time_and_io_reach_the_gateway() {
    let Some(gateway) = Gateway::start("resources_peak_cpu") else {
        return;
    };
    let job = "resources_peak";
    let run = run_job(
        RESOURCES_JOB,
        &["128", "300"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", job),
            ("PUSHTIMER_LABELS", "team=ml"),
        ],
    );
    finished(&run);
    let scrape = gateway.scrape();
    let team = [("team", "ml")];

    let peak = value(&scrape, PEAK, job, &team).unwrap_or_else(|| panic!("no peak: {scrape:#?}"));
    assert!(peak >= 128.0 * MIB, "{} MiB", peak / MIB);
    assert!(peak < 1024.0 * MIB, "{} MiB", peak / MIB);
    assert_eq!(scrape.types[PEAK], "gauge");
    assert!(
        scrape.help[PEAK].contains("in bytes"),
        "{}",
        scrape.help[PEAK]
    );

    let user = value(&scrape, CPU, job, &[("team", "ml"), ("mode", "user")]);
    let system = value(&scrape, CPU, job, &[("team", "ml"), ("mode", "system")]);
    let (Some(user), Some(system)) = (user, system) else {
        panic!("no CPU time by mode: {scrape:#?}");
    };
    let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let most = run.elapsed.as_secs_f64() * cpus + 0.1;
    assert!(
        user > 0.0 && user <= most,
        "user {user} s, at most {most} s"
    );
    assert!(system >= 0.0 && system <= most, "system {system} s");
    assert_eq!(scrape.find(CPU, &[("job", job)]).len(), 2, "{scrape:#?}");
    // A job that does little but burn CPU in user space: more user time than system time.
    let burner = "resources_cpu";
    finished(&run_job(
        RESOURCES_JOB,
        &["0", "500"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", burner),
        ],
    ));
    let scrape_burner = gateway.scrape();
    let mode = |mode| value(&scrape_burner, CPU, burner, &[("mode", mode)]);
    let (Some(user), Some(system)) = (mode("user"), mode("system")) else {
        panic!("no CPU time by mode: {scrape_burner:#?}");
    };
    assert!(user > system, "user {user} s, system {system} s");
    assert_eq!(scrape.types[CPU], "counter");
    assert!(
        scrape.help[CPU].contains("in seconds"),
        "{}",
        scrape.help[CPU]
    );

    // The job's process reads its /proc/self/io as this one does.
    let io_readable = std::fs::read_to_string("/proc/self/io")
        .is_ok_and(|io| io.contains("\nread_bytes:") && io.contains("\nwrite_bytes:"));
    for name in [IO_READ, IO_WRITE] {
        match value(&scrape, name, job, &team) {
            Some(bytes) => {
                assert!(
                    io_readable,
                    "{name} {bytes} where /proc/self/io is unreadable"
                );
                assert!(bytes >= 0.0 && bytes.fract() == 0.0, "{name} {bytes}");
                assert_eq!(scrape.types[name], "counter");
                assert!(scrape.help[name].contains("Bytes"), "{}", scrape.help[name]);
            }
            None => assert!(!io_readable, "no {name}: {scrape:#?}"),
        }
    }
}

/// A metric of the user's named as one of the resource gauges is left out, with one warning
/// naming it, so the gateway takes the push with pushtimer's own.
#[test]
fn a_user_metric_named_as_a_resource_gauge_is_left_out() {
    let Some(gateway) = Gateway::start("resources_collision") else {
        return;
    };
    let job = "resources_collision";
    let run = run_job(
        RESOURCES_JOB,
        &["0", "50", "collide"],
        &[
            ("PUSHGATEWAY_URL", &gateway.url()),
            ("PUSHGATEWAY_JOB", job),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let warnings = run.warnings();
    for name in [PEAK, CPU] {
        let about: Vec<_> = warnings.iter().filter(|w| w.contains(name)).collect();
        assert_eq!(about.len(), 1, "{name}: {run:#?}");
        assert!(
            about[0].contains("collides with pushtimer's own"),
            "{about:?}"
        );
    }
    assert_eq!(warnings.len(), 2, "{run:#?}");
    let scrape = gateway.scrape();
    let peak = value(&scrape, PEAK, job, &[]).unwrap_or_else(|| panic!("no peak: {scrape:#?}"));
    assert!(peak > 7.0, "the user's 7 was pushed: {scrape:#?}");
    assert_ne!(scrape.help[PEAK], "user's");
    let cpu = scrape.find(CPU, &[("job", job)]);
    assert_eq!(cpu.len(), 2, "{cpu:?}");
    assert!(cpu.iter().all(|s| s.labels.contains_key("mode")), "{cpu:?}");
}

/// The file holding this process's memory limit, as the kernel names its cgroup (a child job
/// inherits it): cgroup v1's `memory` hierarchy, else v2; the cgroup's own directory, then the
/// mount's root (a container without a cgroup namespace). Every file that exists, in order.
fn limit_files() -> Vec<PathBuf> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let v1 = cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then_some(path)
    });
    let v2 = cgroup.lines().find_map(|line| line.strip_prefix("0::"));
    let (base, file, path) = match (v1, v2) {
        (Some(path), _) => ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", path),
        (None, Some(path)) => ("/sys/fs/cgroup", "memory.max", path),
        (None, None) => return Vec::new(),
    };
    let base = Path::new(base);
    [
        base.join(path.trim_start_matches('/')).join(file),
        base.join(file),
    ]
    .into_iter()
    .filter(|file| file.exists())
    .collect()
}

/// A limit file's content as a limit: `max`, or cgroup v1's "unlimited" (about 2^63), is none.
fn as_limit(text: &str) -> Option<f64> {
    let text = text.trim();
    if text == "max" {
        return None;
    }
    let value: u64 = text
        .parse()
        .unwrap_or_else(|_| panic!("a limit file holds {text:?}"));
    (value < 1 << 62).then_some(value as f64)
}

/// A cgroup made below this process's own, with a memory limit, removed on drop: where this
/// test may make one (root, and a memory hierarchy that lets it).
struct Limited {
    dir: PathBuf,
    file: PathBuf,
}

impl Limited {
    fn make(limit: u64) -> Option<Limited> {
        let own = limit_files().into_iter().next()?;
        let name = own.file_name()?.to_owned();
        let dir = own
            .parent()?
            .join(format!("pushtimer-resources-{}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        let limited = Limited {
            file: dir.join(name),
            dir,
        };
        std::fs::write(&limited.file, limit.to_string()).ok()?;
        Some(limited)
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        // Empty once its one process has been waited for; the kernel may take a moment.
        for _ in 0..20 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The limit pushed is the one the cgroup's file holds, or none when it says there is none;
/// where this test may make a cgroup with a limit of its own (root), a job run in it pushes
/// exactly that limit.
#[test]
fn the_memory_limit_is_the_cgroups_or_absent() {
    let Some(gateway) = Gateway::start("resources_limit") else {
        return;
    };
    let url = gateway.url();
    let here = [
        ("PUSHGATEWAY_URL", url.as_str()),
        ("PUSHGATEWAY_JOB", "resources_limit_here"),
    ];
    finished(&run_job(RESOURCES_JOB, &["16", "0"], &here));
    let expected = limit_files()
        .first()
        .map(|file| as_limit(&std::fs::read_to_string(file).expect("a limit file")))
        .unwrap_or(None);
    let scrape = gateway.scrape();
    assert_eq!(
        value(&scrape, LIMIT, "resources_limit_here", &[]),
        expected,
        "{:?}: {scrape:#?}",
        limit_files()
    );
    if expected.is_some() {
        assert_eq!(scrape.types[LIMIT], "gauge");
        assert!(
            scrape.help[LIMIT].contains("in bytes"),
            "{}",
            scrape.help[LIMIT]
        );
    }

    let limit: u64 = 1 << 30;
    let Some(limited) = Limited::make(limit) else {
        return;
    };
    let procs = limited.dir.join("cgroup.procs");
    let run = run_job(
        "sh",
        &[
            "-c",
            "echo $$ > \"$1\" && exec \"$0\" 16 0",
            RESOURCES_JOB,
            procs.to_str().expect("a UTF-8 path"),
        ],
        &[
            ("PUSHGATEWAY_URL", url.as_str()),
            ("PUSHGATEWAY_JOB", "resources_limit_inside"),
        ],
    );
    finished(&run);
    let written = std::fs::read_to_string(&limited.file).expect("the limit just written");
    assert_eq!(as_limit(&written), Some(limit as f64));
    let scrape = gateway.scrape();
    assert_eq!(
        value(&scrape, LIMIT, "resources_limit_inside", &[]),
        Some(limit as f64),
        "{scrape:#?}"
    );
    assert_eq!(scrape.types[LIMIT], "gauge");
    assert!(
        scrape.help[LIMIT].contains("in bytes"),
        "{}",
        scrape.help[LIMIT]
    );
    drop(limited);
}
