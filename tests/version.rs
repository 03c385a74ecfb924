//! `pushtimer_job_info` against a real Pushgateway: 1, a gauge, in the job's own group, with
//! the program's version (its binary crate's, captured where that crate is compiled, or
//! `PUSHTIMER_VERSION`) and pushtimer's; a library's timed function claims no version; the
//! labels the Kubernetes manifests pass from the downward API land on the series; and none of
//! these values is ever in the grouping key (the group's URL path).
//!
//! Every crate of this workspace has the workspace's version, so here the binary crate's
//! version and pushtimer's are the same text; the UI case
//! `macros/tests/ui/pass/binary_crate_version.rs` (a binary of trybuild's project, version
//! 0.0.0) tells the two apart.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use pushtimer_tests::{
    Gateway, JobRun, PromQl, Prometheus, Scrape, http_get, repository, run_job, spawn_job,
    tls::TempDir,
};

const VERSION_JOB: &str = env!("CARGO_BIN_EXE_version_job");

const INFO: &str = "pushtimer_job_info";

/// The version of the job's binary crate (`pushtimer-tests`, this crate).
const BINARY_CRATE: &str = env!("CARGO_PKG_VERSION");

/// What a wait on a periodic push may take at most.
const WITHIN: Duration = Duration::from_secs(20);

type Labels = BTreeMap<String, String>;

/// pushtimer's own version, as its manifest gives it (the workspace's).
fn pushtimer_version() -> String {
    let read = |path: &str| {
        std::fs::read_to_string(repository().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    assert!(read("runtime/Cargo.toml").contains("\nversion.workspace = true\n"));
    let root = read("Cargo.toml");
    let package = root
        .split("[workspace.package]")
        .nth(1)
        .expect("a [workspace.package]");
    package
        .lines()
        .find_map(|line| line.strip_prefix("version = \"")?.strip_suffix('"'))
        .expect("the workspace's version")
        .to_owned()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// The labels `pushtimer_job_info` of `job` must have: the job's, `instance` (empty: the
/// gateway adds it), pushtimer's version, and `more`.
fn expected(job: &str, more: &[(&str, &str)]) -> Labels {
    let own = pushtimer_version();
    let mut all = labels(&[("job", job), ("instance", ""), ("pushtimer_version", &own)]);
    all.extend(labels(more));
    all
}

/// The labels of the one `pushtimer_job_info` series of `job`, which is 1 and in the job's own
/// group (the records' groups carry none), with its TYPE and HELP; `None` when there is none.
fn info(scrape: &Scrape, job: &str) -> Option<Labels> {
    let found = scrape.find(INFO, &[("job", job)]);
    let [one] = found.as_slice() else {
        assert!(
            found.is_empty(),
            "{} series of {INFO}: {found:?}",
            found.len()
        );
        return None;
    };
    assert!(!one.labels.contains_key("pushtimer_record"), "{one:?}");
    assert_eq!(one.value, 1.0, "{one:?}");
    assert_eq!(scrape.types[INFO], "gauge");
    let help = &scrape.help[INFO];
    assert!(
        help.contains("version") && help.contains("pushtimer_version"),
        "{help}"
    );
    Some(one.labels.clone())
}

/// The grouping keys of `job`'s groups, as the gateway keeps them (`/api/v1/metrics`), sorted.
fn groups(gateway: &Gateway, job: &str) -> Vec<Labels> {
    let (code, body) =
        http_get(&format!("{}/api/v1/metrics", gateway.url())).expect("the gateway answers");
    assert_eq!(code, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let mut keys: Vec<Labels> = answer["data"]
        .as_array()
        .expect("a list of groups")
        .iter()
        .map(|group| {
            group["labels"]
                .as_object()
                .expect("a grouping key")
                .iter()
                .map(|(name, value)| (name.clone(), value.as_str().unwrap_or("?").to_owned()))
                .collect::<Labels>()
        })
        .filter(|key| key.get("job").map(String::as_str) == Some(job))
        .collect();
    keys.sort();
    keys
}

/// The grouping keys of a job that grouped by nothing but its name: its group and its two
/// records' groups. No version, pod or node in any.
fn only_the_jobs_groups(job: &str) -> Vec<Labels> {
    vec![
        labels(&[("job", job)]),
        labels(&[("job", job), ("pushtimer_record", "last_completion")]),
        labels(&[("job", job), ("pushtimer_record", "last_success")]),
    ]
}

fn finished(run: &JobRun) {
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    assert!(run.warnings().is_empty(), "{run:#?}");
    assert!(run.stdout.contains("done"), "{run:#?}");
}

fn version_job(gateway: &Gateway, job: &str, how: &str, env: &[(&str, &str)]) -> JobRun {
    let url = gateway.url();
    let mut all = vec![("PUSHGATEWAY_URL", url.as_str()), ("PUSHGATEWAY_JOB", job)];
    all.extend_from_slice(env);
    run_job(VERSION_JOB, &[how], &all)
}

/// A timed function of the binary crate: `pushtimer_job_info{version="<its CARGO_PKG_VERSION>",
/// pushtimer_version="<pushtimer's>"} 1`, with the constant labels, HELP and TYPE gauge; the
/// group's URL path is the job's name alone.
#[test]
fn a_binary_crates_timed_function_pushes_its_version_and_pushtimers() {
    let Some(gateway) = Gateway::start("version_binary") else {
        return;
    };
    let job = "version_binary";
    finished(&version_job(
        &gateway,
        job,
        "binary",
        &[("PUSHTIMER_LABELS", "team=data")],
    ));
    let scrape = gateway.scrape();
    assert_eq!(
        info(&scrape, job),
        Some(expected(
            job,
            &[("team", "data"), ("version", BINARY_CRATE)]
        )),
        "{scrape:#?}"
    );
    assert_eq!(groups(&gateway, job), only_the_jobs_groups(job));
}

/// `PUSHTIMER_VERSION` (trimmed) wins over the binary crate's, and gives a version to a
/// program whose only timed function is a library's; one too long is refused with one warning
/// naming it, and the binary crate's is pushed. Never in the grouping key.
#[test]
fn pushtimer_version_overrides_the_binary_crates_and_a_bad_one_is_refused() {
    let Some(gateway) = Gateway::start("version_override") else {
        return;
    };
    let (job, library) = ("version_override", "version_override_library");
    finished(&version_job(
        &gateway,
        job,
        "binary",
        &[("PUSHTIMER_VERSION", "  2.0.0-rc.1+build.7 ")],
    ));
    finished(&version_job(
        &gateway,
        library,
        "library",
        &[("PUSHTIMER_VERSION", "9f3c2ab")],
    ));
    let scrape = gateway.scrape();
    assert_eq!(
        info(&scrape, job),
        Some(expected(job, &[("version", "2.0.0-rc.1+build.7")]))
    );
    assert_eq!(
        info(&scrape, library),
        Some(expected(library, &[("version", "9f3c2ab")]))
    );
    assert_eq!(groups(&gateway, job), only_the_jobs_groups(job));
    assert_eq!(groups(&gateway, library), only_the_jobs_groups(library));

    let too_long = "v".repeat(129);
    let run = version_job(&gateway, job, "binary", &[("PUSHTIMER_VERSION", &too_long)]);
    assert_eq!(run.status.code(), Some(0), "{run:#?}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run:#?}");
    assert!(warnings[0].contains("PUSHTIMER_VERSION"), "{warnings:?}");
    assert!(!warnings[0].contains(&too_long), "{warnings:?}");
    assert_eq!(
        info(&gateway.scrape(), job),
        Some(expected(job, &[("version", BINARY_CRATE)]))
    );
}

/// A timed function of a library (this crate's harness, compiled without `CARGO_BIN_NAME`)
/// never gives its crate's version as the program's: its runs push no `version` label. Once
/// the binary crate's own timed function has run, the next periodic push carries its version,
/// while the job still runs; the final push too.
#[test]
fn a_librarys_timed_function_claims_no_version_and_the_binarys_first_call_brings_it() {
    let Some(gateway) = Gateway::start("version_library") else {
        return;
    };
    let library = "version_library";
    finished(&version_job(&gateway, library, "library", &[]));
    let scrape = gateway.scrape();
    assert!(
        scrape.value(
            "version_library_step_seconds_count",
            &[("job", library), ("outcome", "ok")]
        ) == Some(1.0),
        "{scrape:#?}"
    );
    assert_eq!(info(&scrape, library), Some(expected(library, &[])));

    let job = "version_steps";
    let dir = TempDir::new("version-steps");
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let url = gateway.url();
    let running = spawn_job(
        VERSION_JOB,
        &["steps", &dir_arg],
        &[
            ("PUSHGATEWAY_URL", &url),
            ("PUSHGATEWAY_JOB", job),
            ("PUSHGATEWAY_PUSH_INTERVAL", "50ms"),
        ],
    );
    assert!(
        running.wait_for_stderr("library called", WITHIN),
        "the job never called the library"
    );
    let library_pushed = |scrape: &Scrape| {
        scrape.value(
            "version_library_step_seconds_count",
            &[("job", job), ("outcome", "ok")],
        ) == Some(1.0)
    };
    let scrape = gateway.scrape_until(WITHIN, library_pushed);
    assert!(library_pushed(&scrape), "{scrape:#?}");
    assert_eq!(info(&scrape, job), Some(expected(job, &[])));

    dir.write("binary", "");
    assert!(
        running.wait_for_stderr("binary called", WITHIN),
        "the job never called its own"
    );
    let with_version = expected(job, &[("version", BINARY_CRATE)]);
    let scrape = gateway.scrape_until(WITHIN, |scrape| {
        info(scrape, job).as_ref() == Some(&with_version)
    });
    assert_eq!(
        info(&scrape, job),
        Some(with_version.clone()),
        "{scrape:#?}"
    );

    dir.write("stop", "");
    let run = running.wait();
    finished(&run);
    assert_eq!(info(&gateway.scrape(), job), Some(with_version));
    assert_eq!(groups(&gateway, job), only_the_jobs_groups(job));
}

/// The labels `deploy/kubernetes/cronjob.yaml` gives, with `$(VAR)` expanded as Kubernetes
/// does from the downward API's values of one pod: `PUSHTIMER_LABELS` for a pod `pod` on
/// `node` in the namespace `batch`.
fn cronjob_labels(node: &str, pod: &str) -> String {
    use yaml_rust2::YamlLoader;

    let path = repository().join("deploy/kubernetes/cronjob.yaml");
    let text = std::fs::read_to_string(&path).expect("the CronJob's manifest");
    let documents = YamlLoader::load_from_str(&text).expect("YAML");
    let container =
        &documents[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let mut defined: Vec<(String, String)> = Vec::new();
    for entry in container["env"].as_vec().expect("env") {
        let name = entry["name"].as_str().expect("a name");
        let value = match entry["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
            Some("spec.nodeName") => node.to_owned(),
            Some("metadata.namespace") => "batch".to_owned(),
            Some("metadata.name") => pod.to_owned(),
            Some(other) => panic!("a field this test does not know: {other}"),
            None => {
                let mut value = entry["value"].as_str().unwrap_or_default().to_owned();
                for (earlier, its) in &defined {
                    value = value.replace(&format!("$({earlier})"), its);
                }
                value
            }
        };
        defined.push((name.to_owned(), value));
    }
    let (_, labels) = defined
        .into_iter()
        .find(|(name, _)| name == "PUSHTIMER_LABELS")
        .expect("PUSHTIMER_LABELS in the CronJob");
    assert!(!labels.contains("$("), "{labels}");
    labels
}

/// Two runs of the CronJob (two pods, two nodes) with the manifest's `PUSHTIMER_LABELS`: the
/// node, namespace and pod are labels on every series pushtimer makes, the last run's only;
/// the gateway keeps one group for the job (and its two records'), never one per pod.
#[test]
fn the_kubernetes_manifests_labels_are_labels_never_the_grouping_key() {
    let Some(gateway) = Gateway::start("version_kubernetes") else {
        return;
    };
    let job = "version_kubernetes";
    for (node, pod) in [
        ("node-a", "nightly-etl-29000000-aaaaa"),
        ("node-b", "nightly-etl-29001440-bbbbb"),
    ] {
        let labels = cronjob_labels(node, pod);
        finished(&version_job(
            &gateway,
            job,
            "binary",
            &[("PUSHTIMER_LABELS", &labels)],
        ));
    }
    assert_eq!(groups(&gateway, job), only_the_jobs_groups(job));
    let scrape = gateway.scrape();
    let run = [
        ("team", "data"),
        ("namespace", "batch"),
        ("node", "node-b"),
        ("pod", "nightly-etl-29001440-bbbbb"),
    ];
    let mut with_version = run.to_vec();
    with_version.push(("version", BINARY_CRATE));
    assert_eq!(info(&scrape, job), Some(expected(job, &with_version)));
    // Every series pushtimer made (the gateway's own push times aside) is the last run's.
    let ours: Vec<_> = scrape
        .samples
        .iter()
        .filter(|sample| sample.labels.get("job").map(String::as_str) == Some(job))
        .filter(|sample| !sample.name.starts_with("push_"))
        .collect();
    assert!(ours.len() > 5, "{scrape:#?}");
    for sample in ours {
        for (name, value) in run {
            assert_eq!(
                sample.labels.get(name).map(String::as_str),
                Some(value),
                "{sample:?}"
            );
        }
    }
}

/// The PromQL of docs/metrics.md against a real Prometheus scraping the gateway (with
/// `honor_labels: true`): the version of each job's last run, and the version joined onto
/// another of the job's gauges, with the manifest's labels on.
#[test]
fn the_documented_promql_answers_the_version() {
    let Some(gateway) = Gateway::start("version_promql") else {
        return;
    };
    let Some(prometheus) = Prometheus::start("version_promql", &gateway, &[]) else {
        return;
    };
    let job = "version_promql";
    let manifest = cronjob_labels("node-a", "nightly-etl-29000000-aaaaa");
    finished(&version_job(
        &gateway,
        job,
        "binary",
        &[("PUSHTIMER_LABELS", &manifest)],
    ));
    let by_version = prometheus.query_until(
        "max by (job, version) (pushtimer_job_info)",
        WITHIN,
        |points| !points.is_empty(),
    );
    assert_eq!(by_version.len(), 1, "{by_version:#?}");
    assert_eq!(
        by_version[0].labels,
        labels(&[("job", job), ("version", BINARY_CRATE)])
    );
    assert_eq!(by_version[0].value, 1.0);
    let joined = prometheus.query(
        "pushtimer_job_duration_seconds * ignoring (version, pushtimer_version) \
         group_left (version) pushtimer_job_info",
    );
    assert_eq!(joined.len(), 1, "{joined:#?}");
    let point = &joined[0];
    assert!(point.value > 0.0, "{point:#?}");
    for (name, value) in [
        ("job", job),
        ("version", BINARY_CRATE),
        ("pod", "nightly-etl-29000000-aaaaa"),
        ("node", "node-a"),
        ("namespace", "batch"),
    ] {
        assert_eq!(
            point.labels.get(name).map(String::as_str),
            Some(value),
            "{point:#?}"
        );
    }
}
