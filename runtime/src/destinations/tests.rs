//! From settings to destinations: what the environment and the builder turn into, which
//! destinations are built, and every problem reported on the way.

use std::time::Duration;

use crate::error::PushError;
use crate::push::lanes::Lanes;
use crate::settings::checked::{Naming, Parts, PushSettings};
use crate::settings::config::{Config, DEFAULT_TIMEOUT, PushMethod};
use crate::settings::env;

fn from(vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

/// The parts with the destinations built, their problems added.
fn built(config: Config) -> (Naming, PushSettings, Result<Lanes, PushError>, Vec<String>) {
    let Parts {
        naming,
        pushing,
        mut problems,
        ..
    } = config.into_parts();
    let (lanes, more) = super::build(&pushing);
    problems.extend(more);
    (naming, pushing, lanes, problems)
}

/// The names of the destinations built, in order.
fn names(lanes: Result<Lanes, PushError>) -> Vec<String> {
    match lanes {
        Ok(lanes) => lanes.names(),
        Err(error) => panic!("no destination: {error}"),
    }
}

#[test]
fn defaults_without_environment() {
    let config = from(&[]);
    assert_eq!(config, Config::new());
    assert_eq!(config.timeout, Duration::from_secs(5));
    assert_eq!(config.method, PushMethod::Put);
    assert!(!config.delete_on_exit);
    let (_naming, _settings, pushing, problems) = built(config);
    assert!(matches!(pushing, Err(PushError::NotConfigured)));
    assert!(problems.is_empty());
}

#[test]
fn an_empty_job_turns_every_destination_off() {
    let config = Config::new()
        .gateway("http://h")
        .remote_write("http://h/api/v1/write")
        .job("");
    let (_naming, _settings, pushing, problems) = built(config);
    assert!(
        matches!(pushing, Err(PushError::InvalidConfig { setting, .. }) if setting == env::JOB)
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn remote_write_alone_is_a_destination_with_its_own_variables() {
    let (_naming, _settings, pushing, problems) = built(from(&[
        (env::REMOTE_WRITE_URL, "https://u:p@h/api/v1/write"),
        (env::CA_FILE, "/nonexistent/gateway-ca.pem"),
        ("PUSHTIMER_REMOTE_WRITE_CA_FILE", "/nonexistent/rw-ca.pem"),
    ]));
    // The gateway's CA is not read (no gateway); the endpoint's own is, and fails.
    assert!(
        matches!(pushing, Err(PushError::InvalidConfig { setting, .. })
        if setting == "PUSHTIMER_REMOTE_WRITE_CA_FILE")
    );
    assert!(
        problems.iter().all(|p| !p.contains("PUSHGATEWAY_CA_FILE")),
        "{problems:?}"
    );
    let (_naming, settings, pushing, problems) = built(from(&[(
        env::REMOTE_WRITE_URL,
        "https://u:p@h/api/v1/write",
    )]));
    assert!(settings.gateway.is_none());
    assert_eq!(names(pushing), ["https://h/api/v1/write"]);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn bad_timeout_is_reported_and_defaulted() {
    let (_naming, settings, pushing, problems) =
        built(from(&[(env::URL, "http://h"), (env::TIMEOUT, "banana")]));
    assert_eq!(problems.len(), 1, "{:?}", problems);
    assert!(problems[0].contains("PUSHGATEWAY_TIMEOUT"));
    assert!(pushing.is_ok());
    assert_eq!(settings.timeout, DEFAULT_TIMEOUT);
}

#[test]
fn durations_from_env_and_builder_share_one_set_of_bounds() {
    for (timeout, interval) in [
        (Duration::MAX, Duration::MAX),
        (Duration::ZERO, Duration::ZERO),
        (Duration::from_nanos(1), Duration::from_nanos(1)),
    ] {
        let (_naming, settings, pushing, problems) = built(
            Config::new()
                .gateway("http://h")
                .timeout(timeout)
                .push_interval(interval),
        );
        assert_eq!(problems.len(), 2, "{:?}", problems);
        assert!(pushing.is_ok());
        assert!(settings.timeout >= env::TIMEOUT_BOUNDS.min);
        assert!(settings.timeout <= env::TIMEOUT_BOUNDS.max);
        assert!(settings.interval >= env::PUSH_INTERVAL_BOUNDS.min);
        assert!(settings.interval <= env::PUSH_INTERVAL_BOUNDS.max);
    }
    for text in ["1e19", "300000000000y", "0", "1ns"] {
        let (_naming, settings, pushing, problems) = built(from(&[
            (env::URL, "http://h"),
            (env::TIMEOUT, text),
            (env::PUSH_INTERVAL, text),
        ]));
        assert_eq!(problems.len(), 2, "{text}: {:?}", problems);
        assert!(pushing.is_ok());
        assert!(settings.timeout <= env::TIMEOUT_BOUNDS.max);
        assert!(settings.interval >= env::PUSH_INTERVAL_BOUNDS.min);
    }
}

#[test]
fn bad_label_pairs_are_dropped_and_the_rest_kept() {
    let (naming, _settings, _pushing, problems) = built(from(&[(
        env::LABELS,
        "team=ml, oops ,job=x,__a=1,project=seg",
    )]));
    assert_eq!(
        naming.labels,
        vec![
            ("team".to_owned(), "ml".to_owned()),
            ("project".to_owned(), "seg".to_owned())
        ]
    );
    assert_eq!(problems.len(), 3, "{:?}", problems);
    assert!(problems.iter().all(|p| p.contains("PUSHTIMER_LABELS")));
}

#[test]
fn bad_namespace_is_dropped() {
    let (naming, _settings, _pushing, problems) = built(from(&[(env::NAMESPACE, "a-b")]));
    assert_eq!(naming.namespace, None);
    assert!(problems[0].contains("PUSHTIMER_NAMESPACE"));
    let (naming, _settings, _pushing, _problems) = built(from(&[(env::NAMESPACE, "ns")]));
    assert_eq!(naming.namespace.as_deref(), Some("ns"));
}

#[test]
fn a_namespace_that_names_pushtimers_own_metrics_is_dropped() {
    for own in ["pushtimer", "pushtimer_x"] {
        let (naming, _settings, _pushing, problems) = built(from(&[(env::NAMESPACE, own)]));
        assert_eq!(naming.namespace, None, "{own}");
        assert!(problems[0].contains("pushtimer's own"), "{problems:?}");
    }
    let (naming, _settings, _pushing, problems) = built(from(&[(env::NAMESPACE, "pushtimers")]));
    assert_eq!(
        naming.namespace.as_deref(),
        Some("pushtimers"),
        "{problems:?}"
    );
}

#[test]
fn le_is_a_reserved_label() {
    let (naming, _settings, _pushing, problems) = built(from(&[(env::LABELS, "le=1,team=ml")]));
    assert_eq!(naming.labels, [("team".to_owned(), "ml".to_owned())]);
    assert!(problems[0].contains("\"le\" dropped"), "{problems:?}");
}

#[test]
fn empty_values_count_as_unset() {
    let config = from(&[(env::URL, " "), (env::JOB, "")]);
    assert_eq!(config.gateway, None);
    assert_eq!(config.job, None);
}

#[test]
fn method_and_delete_on_exit() {
    let config = from(&[(env::METHOD, "POST"), (env::DELETE_ON_EXIT, "true")]);
    assert_eq!(config.method, PushMethod::Post);
    assert!(config.delete_on_exit);
    let config = from(&[(env::METHOD, "patch"), (env::DELETE_ON_EXIT, "maybe")]);
    assert_eq!(config.method, PushMethod::Put);
    assert!(!config.delete_on_exit);
    assert_eq!(config.env_problems.len(), 2, "{:?}", config.env_problems);
}

#[test]
fn grouping_builds_the_path_and_drops_bad_names() {
    let (_naming, _settings, pushing, problems) = built(from(&[
        (env::URL, "http://h:9091"),
        (env::JOB, "j"),
        (env::GROUPING, "instance=worker-3,job=x,shard=a/b,bad"),
    ]));
    assert_eq!(problems.len(), 2, "{:?}", problems);
    assert!(problems.iter().all(|p| p.contains("PUSHGATEWAY_GROUPING")));
    assert_eq!(
        names(pushing)[0],
        "http://h:9091/metrics/job/j/instance/worker-3/shard@base64/YS9i"
    );
}

#[test]
fn an_indexed_job_pod_groups_by_its_completion_index_unless_told_otherwise() {
    let config = from(&[(env::JOB_COMPLETION_INDEX, "3")]);
    assert_eq!(
        config.grouping,
        vec![("completion_index".to_owned(), "3".to_owned())]
    );
    let config = from(&[(env::JOB_COMPLETION_INDEX, "3"), (env::GROUPING, "shard=a")]);
    assert_eq!(config.grouping, vec![("shard".to_owned(), "a".to_owned())]);
    assert!(from(&[]).grouping.is_empty());
}

#[test]
fn quantiles_from_the_environment_are_checked() {
    let (naming, _settings, _, problems) = built(from(&[(env::QUANTILES, "0.5, 0.99")]));
    assert_eq!(naming.quantiles, vec![0.5, 0.99]);
    assert!(problems.is_empty(), "{problems:?}");
    for bad in ["0.5,1", "banana", "0.9,0.5", "0"] {
        let (naming, _settings, _, problems) = built(from(&[(env::QUANTILES, bad)]));
        assert!(naming.quantiles.is_empty(), "{bad}");
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        assert!(problems[0].contains("PUSHTIMER_QUANTILES"), "{problems:?}");
    }
}

#[test]
fn files_are_checked_at_start_up() {
    let (_naming, _settings, pushing, problems) = built(from(&[
        (env::URL, "https://h"),
        (env::CA_FILE, "/nonexistent/ca.pem"),
    ]));
    let error = pushing.err().unwrap().to_string();
    assert!(error.contains("PUSHGATEWAY_CA_FILE"), "{error}");
    assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("nothing will be pushed"))
    );
    let (_naming, _settings, pushing, _problems) = built(from(&[
        (env::URL, "https://h"),
        (env::CLIENT_CERT_FILE, "/nonexistent/c.pem"),
    ]));
    let error = pushing.err().unwrap().to_string();
    assert!(error.contains("PUSHGATEWAY_CLIENT_KEY_FILE"), "{error}");
}

#[test]
fn secrets_never_show() {
    for url in [
        "https://u:hunter2@h",
        "https://u:hun/ter2@h:9091",
        "https://u:hun#ter2@h",
        "https://u:hun?ter2@h",
        "https://u:hun@ter2@h",
        "ftp://u:hun/ter2@h",
        "u:hun/ter2@h",
        "https://u:hun/ter2@h:notaport",
    ] {
        let config = from(&[
            (env::URL, url),
            (env::USERNAME, "u"),
            (env::PASSWORD, "hunter2"),
        ]);
        let debug = format!("{config:?}");
        let (_naming, _settings, pushing, problems) = built(config);
        let error = pushing
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        for shown in [debug, error, problems.join("\n")] {
            assert!(
                !shown.contains("hunter2") && !shown.contains("ter2"),
                "{url}: {shown}"
            );
        }
    }
}

#[test]
fn the_default_job_is_the_executables_stem() {
    // Told apart from the code under test: the stem of the path this test binary was run
    // as (cargo runs it by its full path, `.../deps/pushtimer-<hash>`).
    let argv0 = std::env::args().next().expect("argv[0]");
    let stem = std::path::Path::new(&argv0)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .expect("a stem")
        .to_owned();
    assert!(stem.starts_with("pushtimer-"), "{stem}");
    let (_naming, _settings, pushing, _problems) = built(from(&[(env::URL, "http://gw:9091")]));
    assert_eq!(
        names(pushing)[0],
        format!("http://gw:9091/metrics/job/{stem}")
    );
}

#[test]
fn unencoded_userinfo_is_warned_about() {
    let (_naming, _settings, pushing, problems) = built(from(&[
        (env::URL, "https://batch:Zm9v/YmFy+==@gw:9091"),
        (env::JOB, "j"),
    ]));
    assert!(
        problems.iter().any(|p| p.contains("percent-encoded")),
        "{:?}",
        problems
    );
    assert_eq!(names(pushing)[0], "https://gw:9091/metrics/job/j");
    let (_naming, _settings, _pushing, problems) = built(from(&[(
        env::URL,
        "https://batch:Zm9v%2FYmFy%2B%3D%3D@gw:9091",
    )]));
    assert!(problems.is_empty(), "{:?}", problems);
}

#[cfg(unix)]
#[test]
fn values_that_are_not_utf8_are_never_dropped_silently() {
    use std::os::unix::ffi::OsStrExt;
    let raw = |bytes: &[u8]| std::ffi::OsStr::from_bytes(bytes).to_owned();
    let vars = [
        (env::URL, raw(b"http://h:9091")),
        (env::JOB, raw(b"etl-\xff")),
        (env::PASSWORD, raw(b"hunter2\xfe")),
        (env::USERNAME, raw(b"u")),
        (env::GROUPING, raw(b"shard=\xff")),
        (env::CA_FILE, raw(b"/etc/ca-\xff.pem")),
    ];
    let config = Config::from_os_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    });
    // The path is used as it is, and not warned about.
    assert_eq!(
        config
            .gateway
            .as_ref()
            .and_then(|gateway| gateway.ca_file.as_deref())
            .map(|p| p.as_os_str().as_bytes()),
        Some(&b"/etc/ca-\xff.pem"[..])
    );
    // The job keeps its text, not the executable's name.
    assert_eq!(config.job.as_deref(), Some("etl-\u{fffd}"));
    assert_eq!(
        config.gateway.as_ref().and_then(|g| g.password.clone()),
        None
    );
    assert!(config.grouping.is_empty());
    let problems = &config.env_problems;
    assert_eq!(problems.len(), 3, "{problems:?}");
    for (problem, name) in problems
        .iter()
        .zip([env::PASSWORD, env::JOB, env::GROUPING])
    {
        assert!(problem.starts_with(name), "{problem}");
        assert!(!problem.contains("hunter2"), "{problem}");
    }
    assert!(problems[1].contains("etl-\u{fffd}"), "{problems:?}");
}

#[test]
fn basic_auth_over_http_is_reported() {
    let (_naming, _settings, pushing, problems) = built(from(&[
        (env::URL, "http://h"),
        (env::USERNAME, "u"),
        (env::PASSWORD, "p"),
    ]));
    assert!(pushing.is_ok());
    assert!(problems.iter().any(|p| p.contains("clear text")));
}

/// The program's version: `PUSHTIMER_VERSION` (trimmed) wins over `Config::version`, which
/// wins over nothing (the binary crate's, decided in the store); a blank one is unset; one too
/// long or with a control character is refused with one problem naming it, and the next in
/// line is used. Never part of the grouping key.
#[test]
fn the_programs_version_from_the_environment_wins_and_is_checked() {
    let version = |config: Config| {
        let parts = config.into_parts();
        (parts.version, parts.problems)
    };
    assert_eq!(version(Config::new()), (None, Vec::new()));
    assert_eq!(
        version(from(&[(env::VERSION, " 1.4.2+git.abc123 ")])),
        (Some("1.4.2+git.abc123".to_owned()), Vec::new())
    );
    assert_eq!(
        version(Config::new().version(" 0.9 ")),
        (Some("0.9".to_owned()), Vec::new())
    );
    assert_eq!(
        version(from(&[(env::VERSION, "2.0")]).version("0.9")),
        (Some("2.0".to_owned()), Vec::new())
    );
    // Blank counts as unset, from the environment and in code.
    assert_eq!(
        version(from(&[(env::VERSION, "   ")]).version("0.9")),
        (Some("0.9".to_owned()), Vec::new())
    );
    assert_eq!(version(Config::new().version(" ")), (None, Vec::new()));
    // Refused: too long, or not one line; the next in line is used.
    let longest = "v".repeat(env::VERSION_MAX_CHARS);
    assert_eq!(
        version(from(&[(env::VERSION, &longest)])),
        (Some(longest.clone()), Vec::new())
    );
    let too_long = "é".repeat(env::VERSION_MAX_CHARS + 1);
    for bad in [too_long.as_str(), "1.0\nmain", "1.0\u{7}"] {
        let (checked, problems) = version(from(&[(env::VERSION, bad)]).version("0.9"));
        assert_eq!(checked.as_deref(), Some("0.9"), "{bad:?}");
        assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
        assert!(problems[0].starts_with(env::VERSION), "{problems:?}");
        let (checked, problems) = version(Config::new().version(bad));
        assert_eq!(checked, None, "{bad:?}");
        assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
        assert!(problems[0].starts_with("Config::version"), "{problems:?}");
    }
    let (_naming, settings, _, _) = built(from(&[
        (env::URL, "http://h"),
        (env::JOB, "etl"),
        (env::VERSION, "1.0"),
    ]));
    assert!(settings.grouping.is_empty(), "{:?}", settings.grouping);
}
