//! What the job sends on the wire: grouping labels in the URL, PUT/POST/DELETE and their
//! effect on a group, and gzip for large bodies.
//!
//! Grouping and methods run against a real Pushgateway; the raw method, path, headers and
//! body of each request (which a real gateway cannot show) come from a recording fake.
#![forbid(unsafe_code)]

use std::io::Read;

use pushtimer_tests::{
    Behaviour, FakeGateway, Gateway, Scrape, assert_clean, assert_exit_job_complete, http_request,
    run_final_push,
};

const JOB: &str = env!("CARGO_BIN_EXE_exit_job");

/// The text of a gzip-compressed request body.
fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a gzip body holding UTF-8 text");
    text
}

/// Puts a gauge `other_metric 42` into the group `job` + `instance`.
fn put_other_metric(gateway: &Gateway, job: &str, instance: &str) {
    let (code, body) = http_request(
        "PUT",
        &format!("{}/metrics/job/{job}/instance/{instance}", gateway.url()),
        Some("# TYPE other_metric gauge\nother_metric 42\n"),
    )
    .expect("gateway reachable");
    assert_eq!(code, 200, "{body}");
}

// --- Grouping and methods against the real gateway ----------------------------------------

#[test]
fn awkward_grouping_values_round_trip() {
    let Some(gateway) = Gateway::start("awkward_grouping_values_round_trip") else {
        return;
    };
    let run = run_final_push(
        JOB,
        &gateway.url(),
        "grouping",
        "return",
        &[(
            "PUSHGATEWAY_GROUPING",
            "slash=a/b,space=with space,plus=x+y,empty=,umlaut=grüße",
        )],
    );
    assert_clean(&run);
    let grouping = [
        ("slash", "a/b"),
        ("space", "with space"),
        ("plus", "x+y"),
        ("empty", ""),
        ("umlaut", "grüße"),
    ];
    let scrape = gateway.scrape();
    assert_exit_job_complete(&scrape, "grouping", &grouping);
    // Exactly these labels, none mangled or extra.
    let work = scrape.find(
        "exit_job_work_seconds_count",
        &[("job", "grouping"), ("outcome", "ok")],
    );
    assert_eq!(work.len(), 1, "{work:#?}");
    let mut expected: Vec<(&str, &str)> = grouping.to_vec();
    expected.extend([
        ("job", "grouping"),
        ("instance", ""),
        ("stage", "work"),
        ("outcome", "ok"),
    ]);
    expected.sort();
    let actual: Vec<(&str, &str)> = work[0]
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn post_keeps_other_metrics_of_the_group_and_put_replaces_them() {
    let Some(gateway) =
        Gateway::start("post_keeps_other_metrics_of_the_group_and_put_replaces_them")
    else {
        return;
    };
    let grouping = [("instance", "worker-3")];
    for (job, method, survives) in [
        ("method_post", Some("post"), true),
        ("method_put", Some("put"), false),
        ("method_default", None, false),
    ] {
        put_other_metric(&gateway, job, "worker-3");
        let mut env = vec![("PUSHGATEWAY_GROUPING", "instance=worker-3")];
        if let Some(method) = method {
            env.push(("PUSHGATEWAY_METHOD", method));
        }
        let run = run_final_push(JOB, &gateway.url(), job, "return", &env);
        assert_clean(&run);
        let scrape = gateway.scrape();
        assert_exit_job_complete(&scrape, job, &grouping);
        let other = scrape.value("other_metric", &[("job", job), ("instance", "worker-3")]);
        assert_eq!(other, survives.then_some(42.0), "{job}");
    }
}

#[test]
fn delete_on_exit_removes_the_group() {
    let Some(gateway) = Gateway::start("delete_on_exit_removes_the_group") else {
        return;
    };
    put_other_metric(&gateway, "delete_me", "worker-3");
    put_other_metric(&gateway, "delete_me", "worker-4");
    let run = run_final_push(
        JOB,
        &gateway.url(),
        "delete_me",
        "return",
        &[
            ("PUSHGATEWAY_GROUPING", "instance=worker-3"),
            ("PUSHGATEWAY_DELETE_ON_EXIT", "true"),
        ],
    );
    assert_clean(&run);
    let scrape = gateway.scrape();
    let group = [("job", "delete_me"), ("instance", "worker-3")];
    let held: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| {
            group
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        // The records of the run's end live in groups of their own, which stay.
        .filter(|s| !s.labels.contains_key("pushtimer_record"))
        .collect();
    assert!(held.is_empty(), "the group is still there: {held:#?}");
    // Only that group: the job's other group stays.
    assert_eq!(
        scrape.value(
            "other_metric",
            &[("job", "delete_me"), ("instance", "worker-4")]
        ),
        Some(42.0)
    );
}

// --- Headers and bodies, seen by a recording fake -----------------------------------------

#[test]
fn large_bodies_are_gzipped_small_ones_are_not() {
    let fake = FakeGateway::start(Behaviour::Record);
    let long = "v".repeat(2_000);
    let labels = format!("note={long}");
    let run_large = run_final_push(
        JOB,
        &fake.url(),
        "large",
        "return",
        &[("PUSHTIMER_LABELS", &labels)],
    );
    assert_clean(&run_large);
    let requests = group_requests(&fake);
    let [request] = requests.as_slice() else {
        panic!("one push expected: {requests:#?}");
    };
    assert_eq!(request.method, "PUT");
    assert_eq!(
        request.header("content-encoding"),
        Some("gzip"),
        "{request:#?}"
    );
    let text = gunzip(&request.body);
    assert!(text.len() > 1024, "{text}");
    assert!(text.contains("exit_job_work_seconds_count"), "{text}");
    let scrape = Scrape::parse(&text);
    assert_eq!(
        scrape.value(
            "exit_job_work_seconds_count",
            &[("stage", "work"), ("note", &long), ("outcome", "ok")]
        ),
        Some(5.0),
        "{text}"
    );

    // A small body (a job's whole state is more than 1 KiB since it carries its resource
    // gauges: pushed by hand with the public Pusher) goes as it is.
    let fake = FakeGateway::start(Behaviour::Record);
    let small = "# TYPE small_total counter\nsmall_total 1\n";
    pushtimer::Pusher::new(fake.url(), "small")
        .and_then(|pusher| pusher.push(small))
        .expect("the fake takes the push");
    let requests = group_requests(&fake);
    let [request] = requests.as_slice() else {
        panic!("one push expected: {requests:#?}");
    };
    assert_eq!(request.header("content-encoding"), None, "{request:#?}");
    assert_eq!(request.body, small.as_bytes(), "{request:#?}");
}

#[test]
fn delete_on_exit_sends_no_body_and_no_gzip() {
    let fake = FakeGateway::start(Behaviour::Record);
    let labels = format!("note={}", "v".repeat(2_000));
    let run = run_final_push(
        JOB,
        &fake.url(),
        "delete_fake",
        "return",
        &[
            ("PUSHTIMER_LABELS", &labels),
            ("PUSHGATEWAY_GROUPING", "instance=worker-3"),
            ("PUSHGATEWAY_DELETE_ON_EXIT", "true"),
        ],
    );
    assert_clean(&run);
    let requests = group_requests(&fake);
    let [request] = requests.as_slice() else {
        panic!("exactly the DELETE expected: {requests:#?}");
    };
    assert_eq!(request.method, "DELETE", "{request:#?}");
    assert_eq!(
        request.path, "/metrics/job/delete_fake/instance/worker-3",
        "{request:#?}"
    );
    assert_eq!(request.header("content-encoding"), None, "{request:#?}");
    assert!(request.body.is_empty(), "{request:#?}");
}

/// The requests a fake received for the job's own group, not for the records of the run's end
/// (which go to groups below it, `.../pushtimer_record/...`).
fn group_requests(fake: &FakeGateway) -> Vec<pushtimer_tests::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|request| !request.path.contains("/pushtimer_record/"))
        .collect()
}

/// The pods of an Indexed Job (`JOB_COMPLETION_INDEX` set by Kubernetes) push to a group each,
/// so parallel pods of one job do not overwrite each other; `PUSHGATEWAY_GROUPING` overrides.
#[test]
fn indexed_job_pods_push_to_one_group_each() {
    let Some(gateway) = Gateway::start("indexed_job_pods") else {
        return;
    };
    for index in ["0", "1"] {
        let run = pushtimer_tests::run_job(
            JOB,
            &["return", "5"],
            &[
                ("PUSHGATEWAY_URL", &gateway.url()),
                ("PUSHGATEWAY_JOB", "indexed"),
                ("JOB_COMPLETION_INDEX", index),
            ],
        );
        assert_clean(&run);
    }
    let scrape = gateway.scrape();
    for index in ["0", "1"] {
        assert_exit_job_complete(&scrape, "indexed", &[("completion_index", index)]);
    }
}
